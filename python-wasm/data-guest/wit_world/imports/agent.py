"""`automa:host/agent`."""

from automa_door import call


def receive(timeout_ms):
    return call("agent.receive", timeout_ms=timeout_ms)


def emit(value_json):
    call("agent.emit", value_json=value_json)


def set_status(text, metrics_json):
    call("agent.set_status", text=text, metrics_json=metrics_json)


def sleep(ms):
    return call("agent.sleep", ms=ms)


def stop_requested():
    return call("agent.stop_requested")
