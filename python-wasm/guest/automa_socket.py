"""TCP sockets over the host's `net` interface, behind the standard `socket` API.

WASI gives a script no sockets of its own. This module replaces what the standard
`socket` module offers for TCP clients (`socket.socket`, `create_connection`,
`getaddrinfo`, `gethostbyname`, ...) with a socket whose connection the host opens,
checks against the script's allowlist and audits. `http.client`, `urllib.request`,
`requests`/`urllib3`, `smtplib`, `imaplib`, `ftplib` and pure-Python database drivers
then work unchanged. `install()` patches the real module in place at build time, so
modules that imported `socket` before see the same functions.

Only what a client needs exists: no UDP, no raw sockets, and listening only on a
loopback address for other sockets of the same run (`automa_loopback`: the wake-up
channels some libraries build, `socketpair()`), never for the network.
"""

import errno as _errno
import io as _io
import ipaddress as _ipaddress
import socket as _stdsocket
import sys as _sys

import automa_loopback as _loopback
from componentize_py_types import Err
from wit_world.imports import net as _net
from wit_world.imports import types as _types

AF_INET = getattr(_stdsocket, "AF_INET", 2)
AF_INET6 = getattr(_stdsocket, "AF_INET6", 10)
AF_UNSPEC = getattr(_stdsocket, "AF_UNSPEC", 0)
AF_UNIX = getattr(_stdsocket, "AF_UNIX", 1)
SOCK_STREAM = getattr(_stdsocket, "SOCK_STREAM", 1)
IPPROTO_TCP = getattr(_stdsocket, "IPPROTO_TCP", 6)

_SOL_SOCKET = getattr(_stdsocket, "SOL_SOCKET", 1)
_SO_TYPE = getattr(_stdsocket, "SO_TYPE", 3)
_MSG_PEEK = getattr(_stdsocket, "MSG_PEEK", 2)
_MSG_DONTWAIT = getattr(_stdsocket, "MSG_DONTWAIT", 64)

_GLOBAL_DEFAULT_TIMEOUT = _stdsocket._GLOBAL_DEFAULT_TIMEOUT
_default_timeout = None

# Names a script resolved, by address, most recent first: a later `connect((ip,
# port))` asks the host for the name again, so the allowlist (which names hosts)
# applies and TLS can verify it.
_names_by_address = {}

_GRANT_HINT = "an admin can allow it in the script's capabilities (net rules)"


def _map_error(error, what):
    """The Python exception for a host error variant raised while doing `what`."""
    message = error.value
    if isinstance(error, _types.Error_Denied):
        return PermissionError(_errno.EACCES, f"{what}: {message}")
    if isinstance(error, _types.Error_Timeout):
        return TimeoutError(_errno.ETIMEDOUT, f"{what}: timed out ({message})")
    if isinstance(error, _types.Error_LimitReached):
        return PermissionError(_errno.EDQUOT, f"{what}: {message}")
    if isinstance(error, _types.Error_InvalidInput):
        return ValueError(f"{what}: {message}")
    if isinstance(error, _types.Error_NotFound):
        return gaierror(EAI_NONAME, f"{what}: {message}")
    lowered = message.lower()
    if "refused" in lowered:
        return ConnectionRefusedError(_errno.ECONNREFUSED, f"{what}: {message}")
    if "reset" in lowered:
        return ConnectionResetError(_errno.ECONNRESET, f"{what}: {message}")
    if "resolve" in lowered or "lookup" in lowered or "dns" in lowered:
        return gaierror(EAI_NONAME, f"{what}: {message}")
    return OSError(_errno.EIO, f"{what}: {message}")


def _host_call(what, fn, *args):
    try:
        return fn(*args)
    except Err as err:
        raise _map_error(err.value, what) from None


error = OSError
herror = getattr(_stdsocket, "herror", OSError)
timeout = TimeoutError
EAI_NONAME = getattr(_stdsocket, "EAI_NONAME", -2)


class gaierror(OSError):
    """A name could not be resolved."""


def _timeout_ms(seconds):
    """A socket timeout for a host call that must finish: a non-blocking socket
    (timeout 0) still connects, hands over data and shakes hands within the
    host's own limits, as asyncio expects of it."""
    if seconds is None or seconds == 0:
        return None
    return max(1, min(int(seconds * 1000), 2**32 - 1))


def _split_address(text):
    """`ip:port` or `[ip]:port` from the host into a socket address tuple."""
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        return (host[1:-1], int(port), 0, 0)
    return (host, int(port))


class socket:
    """A TCP client socket whose connection the host makes. Listening, UDP and raw
    sockets do not exist in the sandbox and raise PermissionError."""

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is not None:
            raise PermissionError(_errno.EPERM, "sockets cannot be made from file descriptors in the sandbox")
        self.family = AF_INET if family in (-1, None) else family
        self.type = SOCK_STREAM if type in (-1, None) else type
        self.proto = 0 if proto in (-1, None) else proto
        if self.type & 0xF != SOCK_STREAM:
            raise PermissionError(
                _errno.EPERM,
                "only TCP client sockets exist in the sandbox (no UDP or raw sockets)",
            )
        self._conn = None
        self._timeout = _default_timeout
        self._closed = False
        self._io_refs = 0
        self._peer = None
        self._read_closed = False
        self._peeked = b""  # read from the host by recv(MSG_PEEK), not consumed yet
        self._bound = None  # (host, port) of a loopback bind, inside the run
        self._owns_port = False  # whether closing gives the bound port back
        self._backlog = None  # connections waiting for accept() once listening

    # -- connecting -------------------------------------------------------------

    def connect(self, address):
        if self._closed:
            raise OSError(_errno.EBADF, "Bad file descriptor")
        if self._conn is not None:
            raise OSError(_errno.EISCONN, "Transport endpoint is already connected")
        host, port = address[0], int(address[1])
        if self._backlog is not None:
            raise OSError(_errno.EISCONN, "Transport endpoint is already connected")
        listener = _loopback.listeners.find(host, port)
        if listener is not None:
            self._connect_inside(listener, host, port)
            return
        # An address the script resolved is asked for by the names that gave it (the
        # allowlist names hosts), then as itself; only a refusal moves on to the next.
        candidates = [*_names_by_address.get(host, ()), host]
        refusal = None
        for name in dict.fromkeys(candidates):
            try:
                self._conn = _host_call(
                    f"connect to {name}:{port}",
                    _net.connect,
                    name,
                    port,
                    None,
                    _timeout_ms(self._timeout),
                )
                break
            except PermissionError as exc:
                refusal = refusal or exc
        else:
            raise refusal
        self._peer = (host, port)

    def _connect_inside(self, listener, host, port):
        """Connect to a socket of this run listening on loopback (no host call)."""
        if self._bound is None:
            self._bound = (host, _loopback.listeners.reserve(0))
            self._owns_port = True
        mine, theirs = _loopback.pair(self._bound, (host, port))
        listener._backlog.push(theirs, self._bound)
        self._conn = mine
        self._peer = (host, port)

    def connect_ex(self, address):
        try:
            self.connect(address)
            return 0
        except OSError as exc:
            return exc.errno or _errno.EIO

    def _adopt(self, conn, peer):
        self._conn = conn
        self._peer = peer

    # -- reading and writing ----------------------------------------------------

    def _connection(self):
        if self._closed:
            raise OSError(_errno.EBADF, "Bad file descriptor")
        if self._conn is None:
            raise OSError(_errno.ENOTCONN, "Transport endpoint is not connected")
        return self._conn

    def recv(self, bufsize, flags=0):
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        conn = self._connection()
        if bufsize == 0:
            return b""
        peek = flags & _MSG_PEEK
        if self._peeked and len(self._peeked) < bufsize and not self._read_closed and conn.readable(0):
            # More has come since the peek: take it too, as one recv would.
            more = _host_call("recv", conn.read, min(bufsize - len(self._peeked), 1 << 20), None)
            self._read_closed = not more
            self._peeked += more
        if self._peeked:
            # What an earlier MSG_PEEK read from the host comes first.
            data = self._peeked[:bufsize]
            if not peek:
                self._peeked = self._peeked[bufsize:]
            return data
        if self._read_closed:
            return b""
        nonblocking = self._timeout == 0.0 or flags & _MSG_DONTWAIT
        if nonblocking and not conn.readable(0):
            raise BlockingIOError(_errno.EAGAIN, "Resource temporarily unavailable")
        data = _host_call("recv", conn.read, min(bufsize, 1 << 20), _timeout_ms(self._timeout))
        if not data:
            self._read_closed = True
        elif peek:
            self._peeked = data
        return data

    def recv_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer).cast("B")
        size = nbytes or len(view)
        data = self.recv(size, flags)
        view[: len(data)] = data
        return len(data)

    def recvfrom(self, bufsize, flags=0):
        return self.recv(bufsize, flags), self._peer

    def send(self, data, flags=0):
        conn = self._connection()
        data = bytes(data)
        if not data:
            return 0
        return _host_call("send", conn.write, data, _timeout_ms(self._timeout))

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        while len(view):
            sent = self.send(view[: 1 << 20])
            view = view[sent:]

    def sendfile(self, file, offset=0, count=None):
        if offset:
            file.seek(offset)
        total = 0
        while count is None or total < count:
            chunk = file.read(65536 if count is None else min(65536, count - total))
            if not chunk:
                break
            self.sendall(chunk)
            total += len(chunk)
        return total

    def makefile(self, mode="r", buffering=None, *, encoding=None, errors=None, newline=None):
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        rawmode = ("r" if reading else "") + ("w" if writing else "")
        raw = _stdsocket.SocketIO(self, rawmode)
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = _io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if "b" not in mode:
                raise ValueError("unbuffered streams must be binary")
            return raw
        if reading and writing:
            buffer = _io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = _io.BufferedReader(raw, buffering)
        else:
            buffer = _io.BufferedWriter(raw, buffering)
        if "b" in mode:
            return buffer
        text = _io.TextIOWrapper(buffer, encoding, errors, newline)
        text.mode = mode
        return text

    def _decref_socketios(self):
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    # -- options, state and closing ---------------------------------------------

    def settimeout(self, value):
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self):
        return self._timeout

    def setblocking(self, flag):
        self._timeout = None if flag else 0.0

    def getblocking(self):
        return self._timeout != 0.0

    @property
    def timeout(self):
        return self._timeout

    def setsockopt(self, level, optname, value, optlen=None):
        # TCP_NODELAY, SO_KEEPALIVE and friends: the host's connection decides.
        return None

    def getsockopt(self, level, optname, buflen=None):
        # SO_TYPE tells what the socket is; SO_ERROR (asyncio asks it after a
        # connect) is 0 since a failed connect raised already. The rest read as 0.
        value = self.type if (level, optname) == (_SOL_SOCKET, _SO_TYPE) else 0
        return value if buflen is None else value.to_bytes(4, _sys.byteorder)[:buflen].ljust(buflen, b"\0")

    def getpeername(self):
        conn = self._connection()
        return _split_address(conn.peer_address())

    def getsockname(self):
        if self._conn is None:
            return self._bound or ("0.0.0.0", 0)
        return _split_address(self._conn.local_address())

    def fileno(self):
        # No descriptor exists; select() and selectors know these sockets by object.
        return -1 if self._closed else _sandbox_fd(self)

    def shutdown(self, how):
        conn = self._connection()
        if how in (SHUT_RD, SHUT_RDWR):
            self._read_closed = True
        if how in (SHUT_WR, SHUT_RDWR):
            _host_call("shutdown", conn.shutdown_write)

    def close(self):
        self._closed = True
        if self._io_refs > 0:
            return
        if self._owns_port:
            _loopback.listeners.release(self._bound[1])
            self._owns_port = False
        if self._backlog is not None:
            self._backlog = None
            _forget_fd(self)
        conn, self._conn = self._conn, None
        if conn is not None:
            _forget_fd(self)
            conn.__exit__(None, None, None)

    def detach(self):
        raise OSError(_errno.EOPNOTSUPP, "sockets cannot be detached in the sandbox")

    def dup(self):
        raise OSError(_errno.EOPNOTSUPP, "sockets cannot be duplicated in the sandbox")

    def bind(self, address):
        if self._closed:
            raise OSError(_errno.EBADF, "Bad file descriptor")
        host, port = address[0], int(address[1])
        if not _loopback.is_loopback(host):
            raise PermissionError(
                _errno.EPERM,
                f"sockets cannot listen on {host or 'every address'} in the sandbox: only on "
                "127.0.0.1 or localhost, for other sockets of the same run",
            )
        if self._bound is not None or self._conn is not None:
            raise OSError(_errno.EINVAL, "Invalid argument (the socket is bound already)")
        host = "::1" if host == "::1" else "127.0.0.1"
        self._bound = (host, _loopback.listeners.reserve(port))
        self._owns_port = True

    def listen(self, backlog=128):
        if self._bound is None:
            raise PermissionError(
                _errno.EPERM,
                "sockets cannot listen in the sandbox unless bound to 127.0.0.1 or localhost first",
            )
        if self._backlog is None:
            self._backlog = _loopback.Backlog(backlog)
            _loopback.listeners.listen(self._bound[1], self)

    def accept(self):
        if self._backlog is None:
            raise OSError(_errno.EINVAL, "Invalid argument (the socket is not listening)")
        conn, peer = self._backlog.pop(self._timeout)
        sock = socket(self.family, self.type, self.proto)
        sock._adopt(conn, peer)
        sock._bound = self._bound
        return sock, peer

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        state = "closed" if self._closed else ("connected" if self._conn else "unconnected")
        return f"<automa socket {state} peer={self._peer}>"

    def _readable(self, timeout_ms):
        if self._peeked:
            return True
        if self._backlog is not None:
            # A listening socket is readable when a connection waits for accept().
            return len(self._backlog) > 0
        if self._conn is None or self._read_closed:
            return True
        return self._conn.readable(timeout_ms)


SocketType = socket
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2

# Fake descriptor numbers, so code that keys sockets by fileno() keeps working; they
# start far above real descriptors and mean something only to this module's select.
_fds = {}
_next_fd = [1 << 20]


def _sandbox_fd(sock):
    for fd, known in _fds.items():
        if known is sock:
            return fd
    fd = _next_fd[0]
    _next_fd[0] += 1
    _fds[fd] = sock
    return fd


def _forget_fd(sock):
    for fd, known in list(_fds.items()):
        if known is sock:
            del _fds[fd]


def socket_for(obj):
    """The sandbox socket `obj` is or names (by fake descriptor), else None."""
    if isinstance(obj, socket):
        return obj
    fileno = getattr(obj, "fileno", None)
    if callable(fileno) and not isinstance(obj, int):
        try:
            obj = fileno()
        except Exception:
            return None
    if isinstance(obj, int):
        return _fds.get(obj)
    return None


# -- module functions -------------------------------------------------------------


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT, source_address=None, *, all_errors=False):
    host, port = address[0], int(address[1])
    sock = socket(AF_INET, SOCK_STREAM)
    if timeout is not _GLOBAL_DEFAULT_TIMEOUT:
        sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _is_ip(text):
    try:
        _ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    if host is None:
        host = "localhost"
    if isinstance(host, bytes):
        host = host.decode("idna")
    if isinstance(port, str):
        port = int(port) if port.isdigit() else {"http": 80, "https": 443}.get(port, 0)
    port = int(port or 0)
    if _is_ip(host):
        addresses = [host]
    elif host == gethostname():
        # The sandbox's own name, as /etc/hosts would answer it (smtplib's EHLO
        # looks it up); connecting to it still needs a rule.
        addresses = ["127.0.0.1"]
    else:
        addresses = _host_call(f"resolve {host}", _net.resolve, host, port)
        if not addresses:
            raise gaierror(EAI_NONAME, f"{host} has no addresses")
    results = []
    for address in addresses:
        is_v6 = ":" in address
        af = AF_INET6 if is_v6 else AF_INET
        if family not in (0, AF_UNSPEC) and family != af:
            continue
        names = _names_by_address.setdefault(address, [])
        if host in names:
            names.remove(host)
        names.insert(0, host)
        sockaddr = (address, port, 0, 0) if is_v6 else (address, port)
        results.append((af, SOCK_STREAM, IPPROTO_TCP, "", sockaddr))
    if not results:
        raise gaierror(EAI_NONAME, f"{host} has no address of the requested family")
    return results


def gethostbyname(hostname):
    for af, _, _, _, sockaddr in getaddrinfo(hostname, 0):
        if af == AF_INET:
            return sockaddr[0]
    raise gaierror(EAI_NONAME, f"{hostname} has no IPv4 address")


def gethostbyname_ex(hostname):
    addresses = [s[0] for af, _, _, _, s in getaddrinfo(hostname, 0) if af == AF_INET]
    return hostname, [], addresses


def gethostname():
    return "automa-sandbox"


def getfqdn(name=""):
    return name or gethostname()


def gethostbyaddr(address):
    raise herror(1, "reverse lookups are not available in the sandbox")


def getdefaulttimeout():
    return _default_timeout


def setdefaulttimeout(value):
    global _default_timeout
    _default_timeout = None if value is None else float(value)


def socketpair(family=None, type=SOCK_STREAM, proto=0):
    """Two connected sockets of this run (their bytes stay inside the sandbox)."""
    family = AF_UNIX if family is None else family
    ends = _loopback.pair(("127.0.0.1", 0), ("127.0.0.1", 0))
    socks = []
    for end in ends:
        sock = socket(family, type, proto)
        sock._adopt(end, ("127.0.0.1", 0))
        socks.append(sock)
    return socks[0], socks[1]


def fromfd(*args, **kwargs):
    raise PermissionError(_errno.EPERM, "sockets cannot be made from file descriptors in the sandbox")


def create_server(address, *, family=AF_INET, backlog=None, reuse_port=False, dualstack_ipv6=False):
    """A listening socket, on loopback for sockets of this run only: any other
    address (ftplib's active mode binds every address) is refused by `bind`."""
    sock = socket(family, SOCK_STREAM)
    try:
        sock.bind(address)
        sock.listen(128 if backlog is None else backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def has_dualstack_ipv6():
    return False


_REPLACED = {
    "socket": socket,
    "SocketType": socket,
    "create_connection": create_connection,
    "getaddrinfo": getaddrinfo,
    "gethostbyname": gethostbyname,
    "gethostbyname_ex": gethostbyname_ex,
    "gethostbyaddr": gethostbyaddr,
    "gethostname": gethostname,
    "getfqdn": getfqdn,
    "getdefaulttimeout": getdefaulttimeout,
    "setdefaulttimeout": setdefaulttimeout,
    "socketpair": socketpair,
    "fromfd": fromfd,
    "create_server": create_server,
    "has_dualstack_ipv6": has_dualstack_ipv6,
    "error": OSError,
    "timeout": TimeoutError,
    "gaierror": gaierror,
    "SHUT_RD": SHUT_RD,
    "SHUT_WR": SHUT_WR,
    "SHUT_RDWR": SHUT_RDWR,
}

# Constants client libraries read (setsockopt arguments); the values only need to exist.
_CONSTANTS = {
    "AF_INET": AF_INET,
    "AF_INET6": AF_INET6,
    "AF_UNSPEC": AF_UNSPEC,
    "AF_UNIX": AF_UNIX,
    "SOCK_STREAM": SOCK_STREAM,
    "SOCK_DGRAM": 2,
    "IPPROTO_TCP": IPPROTO_TCP,
    "IPPROTO_IPV6": 41,
    "SOL_SOCKET": 1,
    "SO_KEEPALIVE": 9,
    "SO_REUSEADDR": 2,
    "SO_RCVBUF": 8,
    "SO_SNDBUF": 7,
    "SO_ERROR": 4,
    "SO_TYPE": 3,
    "TCP_NODELAY": 1,
    "TCP_KEEPIDLE": 4,
    "TCP_KEEPINTVL": 5,
    "TCP_KEEPCNT": 6,
    "IPV6_V6ONLY": 26,
    "AI_PASSIVE": 1,
    "AI_CANONNAME": 2,
    "AI_NUMERICHOST": 4,
    "AI_ADDRCONFIG": 32,
    "NI_NUMERICHOST": 1,
    "NI_NUMERICSERV": 2,
    "MSG_PEEK": 2,
    "MSG_DONTWAIT": 64,
    "EAI_NONAME": EAI_NONAME,
    "has_ipv6": True,
}


def install():
    """Patch the standard `socket` module in place (at build time, in the snapshot)."""
    for name, value in _CONSTANTS.items():
        if not hasattr(_stdsocket, name):
            setattr(_stdsocket, name, value)
    for name, value in _REPLACED.items():
        setattr(_stdsocket, name, value)
    _sys.modules["socket"] = _stdsocket
