"""The asyncio event loop of the sandbox.

The standard loop wakes itself through a socket pair and waits on file descriptors;
a WASI script has neither. This loop is asyncio's own selector loop over the
sandbox's sockets (`automa_select.SandboxSelector`, readiness asked of the host), with
no self-pipe: tasks, timers, `asyncio.sleep`, `open_connection`, `create_connection`
(with `ssl=`, done by the host) and `start_tls` work. There are no threads, so
`run_in_executor` and `to_thread` run the function when it is submitted.
"""

import asyncio
import asyncio.base_events
import asyncio.events
import asyncio.selector_events
import ssl
import time

import automa_select
import automa_ssl


class _LoopSelector(automa_select.SandboxSelector):
    def select(self, timeout=None):
        if timeout is None and not self._keys:
            # Nothing scheduled and nothing to read: the loop would wait forever.
            raise RuntimeError("asyncio: nothing left to wait for (no timers, no open connections)")
        if not self._keys:
            if timeout > 0:
                time.sleep(timeout)
            return []
        return super().select(timeout)


class SandboxEventLoop(asyncio.selector_events.BaseSelectorEventLoop):
    def __init__(self):
        super().__init__(selector=_LoopSelector())

    # No self-pipe: nothing runs on another thread that would need to wake the loop.
    def _make_self_pipe(self):
        self._ssock = self._csock = None

    def _close_self_pipe(self):
        pass

    def _write_to_self(self):
        pass

    async def shutdown_default_executor(self, timeout=None):
        # The default executor runs tasks inline; there is no thread to join.
        self._executor_shutdown_called = True
        executor, self._default_executor = self._default_executor, None
        if executor is not None:
            executor.shutdown(wait=False)

    def _make_ssl_transport(
        self,
        rawsock,
        protocol,
        sslcontext,
        waiter=None,
        *,
        server_side=False,
        server_hostname=None,
        extra=None,
        server=None,
        **timeouts,
    ):
        # The host does TLS: hand the handshake to it, then carry plaintext over a
        # plain transport.
        if server_side:
            raise ssl.SSLError(1, "server-side TLS does not exist in the sandbox")
        context = sslcontext if isinstance(sslcontext, ssl.SSLContext) else ssl.create_default_context()
        tls = context.wrap_socket(rawsock, server_hostname=server_hostname)
        return self._make_socket_transport(tls, protocol, waiter, extra=extra, server=server)

    async def start_tls(self, transport, protocol, sslcontext, *, server_side=False,
                        server_hostname=None, **timeouts):
        if server_side:
            raise ssl.SSLError(1, "server-side TLS does not exist in the sandbox")
        sock = transport._sock
        automa_ssl.upgrade(sock, sslcontext, server_hostname)
        transport.set_protocol(protocol)
        return transport


def install():
    asyncio.events.new_event_loop = SandboxEventLoop
    asyncio.new_event_loop = SandboxEventLoop
    for name in ("DefaultEventLoopPolicy", "_DefaultEventLoopPolicy"):
        policy = getattr(asyncio, name, None) or getattr(asyncio.events, name, None)
        if policy is not None:
            policy._loop_factory = SandboxEventLoop
