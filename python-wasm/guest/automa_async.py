"""An asyncio event loop that works without sockets.

The default loop wakes itself through a socket pair, which WASI does not give a script.
Inside the sandbox there is no socket I/O to wait for anyway, so this loop's selector
only sleeps until the next timer: tasks, `asyncio.sleep`, `gather` and timeouts work.
"""

import asyncio
import asyncio.base_events
import asyncio.events
import time


class _SleepSelector:
    def select(self, timeout=None):
        if timeout is None:
            # Nothing scheduled and no I/O possible: the loop would wait forever.
            raise RuntimeError("asyncio: nothing left to wait for (no I/O exists in the sandbox)")
        if timeout > 0:
            time.sleep(timeout)
        return []

    def close(self):
        pass


class SandboxEventLoop(asyncio.base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._selector = _SleepSelector()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass


def install():
    asyncio.events.new_event_loop = SandboxEventLoop
    asyncio.new_event_loop = SandboxEventLoop
    for name in ("DefaultEventLoopPolicy", "_DefaultEventLoopPolicy"):
        policy = getattr(asyncio, name, None) or getattr(asyncio.events, name, None)
        if policy is not None:
            policy._loop_factory = SandboxEventLoop
