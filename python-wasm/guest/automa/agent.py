"""Long-running agents: read messages, emit events, report status, stop politely.

    import automa
    def main():
        while not automa.agent.stop_requested():
            message = automa.agent.receive(timeout=30)
            if message is not None:
                automa.agent.emit({"echo": message})
"""

import json as _json

from wit_world.imports import agent as _host

from .errors import call


def receive(timeout=None):
    """The next message's body, or None after `timeout` seconds (default: 60) or when
    the agent is asked to stop."""
    seconds = 60.0 if timeout is None else max(0.0, float(timeout))
    raw = call("agent.receive", _host.receive, min(int(seconds * 1000), 2**32 - 1))
    return None if raw is None else _json.loads(raw)


def emit(value):
    """Publish a JSON-serializable value as an event of this agent."""
    call("agent.emit", _host.emit, _json.dumps(value, default=str))


def set_status(text, **numbers):
    """Show a status text and a few named numbers in the API, the UI and metrics."""
    metrics = _json.dumps({k: float(v) for k, v in numbers.items()}) if numbers else None
    call("agent.set_status", _host.set_status, str(text), metrics)


def sleep(seconds):
    """Sleep without using CPU; returns False early when the agent is asked to stop."""
    return call("agent.sleep", _host.sleep, min(int(max(0.0, float(seconds)) * 1000), 2**32 - 1))


def stop_requested():
    """Whether the agent was asked to stop (finish up and return from main)."""
    return call("agent.stop_requested", _host.stop_requested)
