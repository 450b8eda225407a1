"""The asyncio event loop of the sandbox.

The standard loop wakes itself through a socket pair and waits on file descriptors;
a WASI script has neither. This loop is asyncio's own selector loop over the
sandbox's sockets (`automa_select.SandboxSelector`, readiness asked of the host), with
no self-pipe: tasks, timers, `asyncio.sleep`, `open_connection`, `create_connection`
and `start_tls` work. TLS (`ssl=`, `start_tls`) is asyncio's own `sslproto` over
`ssl.MemoryBIO`/`SSLObject`, whose engine is the host's TLS session. There are no
threads, so `run_in_executor` and `to_thread` run the function when it is submitted.
"""

import asyncio
import asyncio.base_events
import asyncio.events
import asyncio.selector_events
import asyncio.sslproto
import ssl  # the sandbox's (automa_ssl.install() runs first)
import time

import automa_select


class _LoopSelector(automa_select.SandboxSelector):
    def select(self, timeout=None):
        if timeout is None and not self._fd_to_key:
            # Nothing scheduled and nothing to read: the loop would wait forever.
            raise RuntimeError("asyncio: nothing left to wait for (no timers, no open connections)")
        if not self._fd_to_key:
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


def install():
    # asyncio's TLS modules keep the `ssl` they imported; make sure it is the
    # sandbox's (with MemoryBIO and SSLObject), whatever was imported first.
    for module in (asyncio.base_events, asyncio.selector_events, asyncio.sslproto):
        module.ssl = ssl
    asyncio.sslproto.SSLAgainErrors = (ssl.SSLWantReadError, ssl.SSLSyscallError)
    asyncio.events.new_event_loop = SandboxEventLoop
    asyncio.new_event_loop = SandboxEventLoop
    for name in ("DefaultEventLoopPolicy", "_DefaultEventLoopPolicy"):
        policy = getattr(asyncio, name, None) or getattr(asyncio.events, name, None)
        if policy is not None:
            policy._loop_factory = SandboxEventLoop
