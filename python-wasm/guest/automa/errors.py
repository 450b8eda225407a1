"""Exceptions raised by the SDK, and the mapping from host errors to them."""

from componentize_py_types import Err
from wit_world.imports import types as _types


class AutomaError(Exception):
    """Base class of the SDK's own exceptions."""


class TooLargeError(AutomaError, ValueError):
    """A body, message or value exceeded a size limit."""


class LimitReachedError(AutomaError):
    """A per-run or per-day cap was reached."""


class HostError(AutomaError, OSError):
    """The host or a remote party failed."""


def from_host(error, *, what):
    """The Python exception for a host `error` variant; `what` names the operation."""
    message = error.value
    if isinstance(error, _types.Error_Denied):
        return PermissionError(message)
    if isinstance(error, _types.Error_InvalidInput):
        return ValueError(f"{what}: {message}")
    if isinstance(error, _types.Error_Timeout):
        return TimeoutError(f"{what}: {message}")
    if isinstance(error, _types.Error_TooLarge):
        return TooLargeError(f"{what}: {message}")
    if isinstance(error, _types.Error_LimitReached):
        return LimitReachedError(f"{what}: {message}")
    if isinstance(error, _types.Error_NotFound):
        return KeyError(message)
    return HostError(f"{what}: {message}")


def call(what, fn, *args):
    """Call a host function, turning its error variant into a Python exception."""
    try:
        return fn(*args)
    except Err as err:
        raise from_host(err.value, what=what) from None
