"""Host plugins an admin granted to this script.

    html = automa.plugins.call("markdown", "render", markdown="# Hi")["html"]
    html = automa.plugins.markdown.render(markdown="# Hi")["html"]

Arguments are keyword arguments, checked by the host against the function's schema
(ValueError when they do not fit). A plugin that is not granted raises
PermissionError; an unknown plugin or function raises LookupError; a plugin that
crashes or fails raises automa.errors.HostError, one that runs too long TimeoutError.
In the attribute form, `_` stands for the `-` of plugin names
(`automa.plugins.chat_notify` is the plugin `chat-notify`).
"""

import json

from componentize_py_types import Err
from wit_world.imports import plugins as _host
from wit_world.imports import types as _types

from .errors import from_host


def _invoke(what, fn, *args):
    try:
        return fn(*args)
    except Err as err:
        if isinstance(err.value, _types.Error_NotFound):
            raise LookupError(err.value.value) from None
        raise from_host(err.value, what=what) from None


def call(plugin, function, **kwargs):
    """Call `function` of `plugin` with keyword arguments; returns its JSON result as
    Python values."""
    try:
        args_json = json.dumps(kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"plugin arguments must be JSON values: {e}") from None
    what = f"plugin {plugin}.{function}"
    return json.loads(_invoke(what, _host.call, str(plugin), str(function), args_json))


def describe(plugin):
    """The plugin's manifest: name, version, description and its functions with the
    JSON Schemas of their arguments."""
    return json.loads(_invoke(f"plugin {plugin}", _host.describe, str(plugin)))


class _Plugin:
    """`automa.plugins.<name>`: each attribute is a function of the plugin."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, function):
        if function.startswith("__"):
            raise AttributeError(function)

        def invoke(**kwargs):
            return call(self._name, function, **kwargs)

        invoke.__name__ = function
        invoke.__qualname__ = f"{self._name}.{function}"
        return invoke

    def __repr__(self):
        return f"<automa plugin {self._name!r}>"


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    # Plugin names use `-`, which Python attribute names cannot.
    return _Plugin(name.replace("_", "-"))
