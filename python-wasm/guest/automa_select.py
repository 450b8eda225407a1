"""`select` and `selectors` that understand the sandbox's sockets.

Sandbox sockets have no file descriptor; their readiness is asked of the host
(`connection.readable`). Client libraries check a connection before reuse
(urllib3's `wait_for_read`) or wait for data with `select.select`/`poll`: those calls
work on sandbox sockets and keep their meaning. A socket is always writable (writes
wait inside the host).
"""

import select as _select
import selectors as _selectors
import time as _time

import automa_socket as _socket

_SLICE_MS = 50


def _ready(socks, timeout):
    """The readable ones of `socks`, waiting up to `timeout` seconds (None: forever)."""
    deadline = None if timeout is None else _time.monotonic() + max(0.0, timeout)
    while True:
        if len(socks) == 1:
            remaining = None if deadline is None else deadline - _time.monotonic()
            wait = _SLICE_MS if remaining is None else max(0, min(int(remaining * 1000), 2**31))
            sock = socks[0]
            if sock._readable(wait):
                return [sock]
        else:
            ready = [s for s in socks if s._readable(0)]
            if ready:
                return ready
            if deadline is None or deadline > _time.monotonic():
                _time.sleep(_SLICE_MS / 1000 / 5)
        if deadline is not None and _time.monotonic() >= deadline:
            return []


def select(rlist, wlist, xlist, timeout=None):
    readers = [(obj, _socket.socket_for(obj)) for obj in rlist]
    writers = [obj for obj in wlist if _socket.socket_for(obj) is not None]
    if writers:
        # Writable at once, and readable ones need no waiting either.
        ready = [obj for obj, s in readers if s is not None and s._readable(0)]
        return ready, writers, []
    socks = [s for _, s in readers if s is not None]
    if not socks:
        if rlist or wlist or xlist:
            raise OSError(9, "select() in the sandbox works on sandbox sockets only")
        if timeout:
            _time.sleep(timeout)
        return [], [], []
    ready = _ready(socks, timeout)
    return [obj for obj, s in readers if s in ready], [], []


POLLIN = getattr(_select, "POLLIN", 1)
POLLPRI = getattr(_select, "POLLPRI", 2)
POLLOUT = getattr(_select, "POLLOUT", 4)
POLLERR = getattr(_select, "POLLERR", 8)
POLLHUP = getattr(_select, "POLLHUP", 16)
POLLNVAL = getattr(_select, "POLLNVAL", 32)


class _Poll:
    def __init__(self):
        self._registered = {}

    def register(self, obj, eventmask=POLLIN | POLLPRI | POLLOUT):
        sock = _socket.socket_for(obj)
        if sock is None:
            raise OSError(9, "poll() in the sandbox works on sandbox sockets only")
        self._registered[sock.fileno()] = (sock, eventmask)

    def modify(self, obj, eventmask):
        self.register(obj, eventmask)

    def unregister(self, obj):
        sock = _socket.socket_for(obj)
        self._registered.pop(sock.fileno() if sock else obj, None)

    def poll(self, timeout=None):
        seconds = None if timeout is None or timeout < 0 else timeout / 1000
        writable = [(fd, POLLOUT) for fd, (_, m) in self._registered.items() if m & POLLOUT]
        readers = {fd: s for fd, (s, m) in self._registered.items() if m & (POLLIN | POLLPRI)}
        if writable:
            seconds = 0
        ready = _ready(list(readers.values()), seconds) if readers else []
        if not readers and not writable and seconds:
            _time.sleep(seconds)
        events = dict(writable)
        for fd, sock in readers.items():
            if sock in ready:
                events[fd] = events.get(fd, 0) | POLLIN
        return list(events.items())


class SandboxSelector(_selectors._BaseSelectorImpl):
    """A selector over sandbox sockets (what `selectors.DefaultSelector` is here).

    The standard base keeps the keys (by the sockets' sandbox descriptor numbers),
    so `get_key(sock)`, `get_map()[sock]` and `modify` work as on CPython; only
    waiting is the sandbox's."""

    def register(self, fileobj, events, data=None):
        if _socket.socket_for(fileobj) is None:
            raise ValueError(f"cannot select on {fileobj!r} in the sandbox (sandbox sockets only)")
        return super().register(fileobj, events, data)

    def select(self, timeout=None):
        keys = list(self._fd_to_key.values())
        readers = {
            key.fd: _socket.socket_for(key.fileobj)
            for key in keys
            if key.events & _selectors.EVENT_READ
        }
        writers = {key.fd for key in keys if key.events & _selectors.EVENT_WRITE}
        wait = 0 if writers else timeout
        ready = _ready([s for s in readers.values() if s], wait) if readers else []
        if not readers and not writers and timeout:
            _time.sleep(timeout)
        result = []
        for key in keys:
            mask = 0
            if key.fd in readers and readers[key.fd] in ready:
                mask |= _selectors.EVENT_READ
            if key.fd in writers:
                mask |= _selectors.EVENT_WRITE
            if mask:
                result.append((key, mask & key.events))
        return result


def install():
    """Patch `select` and `selectors` in place (at build time, in the snapshot)."""
    _select.select = select
    _select.poll = _Poll
    for name in ("POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL"):
        setattr(_select, name, globals()[name])
    for name in ("epoll", "kqueue", "devpoll"):
        if hasattr(_select, name):
            delattr(_select, name)
    _selectors.DefaultSelector = SandboxSelector
