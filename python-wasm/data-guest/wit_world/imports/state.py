"""`automa:host/state`."""

from automa_door import call


def get(key):
    return call("state.get", key=key)


def set(key, value):
    call("state.set", key=key, value=value)


def delete(key):
    return call("state.delete", key=key)


def keys():
    return call("state.keys")
