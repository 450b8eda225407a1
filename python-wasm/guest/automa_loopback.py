"""Connections between two sockets of the same run, kept inside the sandbox.

Client libraries make themselves a wake-up channel out of two connected sockets:
`socket.socketpair()`, or (paho-mqtt, to work on Windows too) a listener bound to
127.0.0.1 port 0 that its own client connects to and it accepts. Neither reaches the
network, so neither goes through the host or needs a rule: the bytes stay in this
module's buffers. A socket of the script may listen on a loopback address only, and
only sockets of the same run can connect to it.

The sandbox has no threads, so a call that would have to wait for the other end (a
blocking read of an empty buffer, an accept with nothing waiting) can never be
satisfied: it fails at once instead of hanging the run.
"""

import errno as _errno
import time as _time
from collections import deque as _deque

# Bytes one direction holds before a write takes only part (like a kernel's socket
# buffer): a script writing without reading the other end gets a clear error, not a
# run that grows until its memory limit.
BUFFER_LIMIT = 1 << 20

# Ports a bind to port 0 gets, from the top of the dynamic range; they exist only
# inside this run.
_FIRST_PORT = 49152
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}

_WOULD_HANG = (
    "the other end is a socket of this same run and the sandbox has no threads, "
    "so nothing can {what} while this waits"
)


def is_loopback(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).lower()
    return host in _LOOPBACK_NAMES or host.startswith("127.")


class _Pipe:
    """One direction: what one end wrote and the other has not read yet."""

    def __init__(self):
        self.data = bytearray()
        self.closed = False  # the writing end is done: the reader gets end of stream
        self.reader_closed = False  # the reading end is gone: writes are reset


class LocalConnection:
    """One end of an in-sandbox connection, with the methods of the host's
    `net.connection` that `automa_socket.socket` calls."""

    def __init__(self, inbox, outbox, local, peer):
        self._inbox = inbox
        self._outbox = outbox
        self._local = local
        self._peer = peer
        self._open = True

    def read(self, max_bytes, timeout_ms):
        if self._inbox.data:
            chunk = bytes(self._inbox.data[:max_bytes])
            del self._inbox.data[:max_bytes]
            return chunk
        if self._inbox.closed or not self._open:
            return b""
        if timeout_ms is not None:
            raise TimeoutError(_errno.ETIMEDOUT, "timed out: " + _WOULD_HANG.format(what="write to it"))
        raise OSError(_errno.EDEADLK, "recv would wait forever: " + _WOULD_HANG.format(what="write to it"))

    def write(self, data, timeout_ms):
        if not self._open or self._outbox.closed:
            raise BrokenPipeError(_errno.EPIPE, "Broken pipe")
        if self._outbox.reader_closed:
            # The peer closed entirely: it will never read what is written now.
            raise ConnectionResetError(_errno.ECONNRESET, "Connection reset by peer")
        room = BUFFER_LIMIT - len(self._outbox.data)
        if room <= 0:
            raise BlockingIOError(
                _errno.EAGAIN,
                "Resource temporarily unavailable: " + _WOULD_HANG.format(what="read from it"),
            )
        taken = bytes(data[:room])
        self._outbox.data += taken
        return len(taken)

    def readable(self, timeout_ms):
        ready = bool(self._inbox.data) or self._inbox.closed or not self._open
        if not ready and timeout_ms:
            # Nothing in this run can write meanwhile; the wait is still a wait,
            # as the caller asked (select with a timeout).
            _time.sleep(timeout_ms / 1000)
        return ready

    def start_tls(self, options, timeout_ms):
        raise OSError(_errno.EOPNOTSUPP, "TLS between two sockets of the same run is not supported")

    def tls_info(self):
        return None

    def shutdown_write(self):
        self._outbox.closed = True

    def peer_address(self):
        return _text(self._peer)

    def local_address(self):
        return _text(self._local)

    def __exit__(self, *exc):
        if self._open:
            self._open = False
            self._outbox.closed = True
            self._inbox.reader_closed = True
        return False


def _text(address):
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def pair(first, second):
    """Two connected ends: the one for address `first`, the one for `second`."""
    there, back = _Pipe(), _Pipe()
    return LocalConnection(back, there, first, second), LocalConnection(there, back, second, first)


class _Listeners:
    """The loopback ports sockets of this run listen on."""

    def __init__(self):
        self._by_port = {}
        self._bound = set()
        self._next = _FIRST_PORT

    def reserve(self, port):
        """A port for a bind (`0`: a free one); EADDRINUSE when a socket of this run
        has it already."""
        if port == 0:
            while self._next in self._bound:
                self._next = _FIRST_PORT + (self._next + 1 - _FIRST_PORT) % (65536 - _FIRST_PORT)
            port = self._next
        elif port in self._bound:
            raise OSError(_errno.EADDRINUSE, "Address already in use")
        self._bound.add(port)
        return port

    def release(self, port):
        self._bound.discard(port)
        self._by_port.pop(port, None)

    def listen(self, port, sock):
        self._by_port[port] = sock

    def find(self, host, port):
        """The listening socket a connect to (host, port) reaches inside the run."""
        if not is_loopback(host):
            return None
        return self._by_port.get(port)


listeners = _Listeners()


class Backlog:
    """Connections made to a listening socket, waiting for its accept()."""

    def __init__(self, size):
        self._waiting = _deque()
        self._size = max(1, size)

    def __len__(self):
        return len(self._waiting)

    def push(self, conn, peer):
        if len(self._waiting) >= self._size:
            raise ConnectionRefusedError(_errno.ECONNREFUSED, "Connection refused (the listener's backlog is full)")
        self._waiting.append((conn, peer))

    def pop(self, blocking_timeout):
        if self._waiting:
            return self._waiting.popleft()
        if blocking_timeout == 0.0:
            raise BlockingIOError(_errno.EAGAIN, "Resource temporarily unavailable")
        if blocking_timeout is not None:
            raise TimeoutError(_errno.ETIMEDOUT, "timed out: " + _WOULD_HANG.format(what="connect to it"))
        raise OSError(_errno.EDEADLK, "accept would wait forever: " + _WOULD_HANG.format(what="connect to it"))
