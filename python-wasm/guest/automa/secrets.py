"""Secrets an admin granted to this script."""

from wit_world.imports import secrets as _host

from .errors import call


def get(name, default=None):
    """The secret's value; `default` when it does not exist. Raises PermissionError when
    the secret exists but is not granted to this script."""
    try:
        return call(f"secret {name!r}", _host.get, str(name))
    except KeyError:
        return default
