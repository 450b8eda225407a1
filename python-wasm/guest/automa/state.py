"""A small persistent key-value store for this script or agent. Values are JSON."""

import json as _json

from wit_world.imports import state as _host

from .errors import call


def get(key, default=None):
    """The value stored under `key`, or `default`."""
    raw = call("state.get", _host.get, str(key))
    return default if raw is None else _json.loads(raw)


def set(key, value):
    """Store a JSON-serializable value under `key`."""
    call("state.set", _host.set, str(key), _json.dumps(value))


def delete(key):
    """Remove `key`; True when it existed."""
    return call("state.delete", _host.delete, str(key))


def keys():
    """All keys, sorted."""
    return call("state.keys", _host.keys)
