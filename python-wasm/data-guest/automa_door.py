"""The data profile's way to the host: one JSON frame per host function call.

The data profile's interpreter has no component bindings; its single custom import (the
"door") carries the frames, and the host answers each with the same implementation a
component run reaches through WIT (see host-api's `door.rs`).
"""

import base64
import json

import _host

from componentize_py_types import Err
from wit_world.imports import types as _types

_CASES = {
    "denied": _types.Error_Denied,
    "invalid-input": _types.Error_InvalidInput,
    "timeout": _types.Error_Timeout,
    "too-large": _types.Error_TooLarge,
    "limit-reached": _types.Error_LimitReached,
    "not-found": _types.Error_NotFound,
    "failed": _types.Error_Failed,
}
_next_id = 0


class _Encoder(json.JSONEncoder):
    def default(self, value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
        return super().default(value)


def _decode(value):
    if isinstance(value, dict):
        if len(value) == 1 and "$bytes" in value:
            return base64.b64decode(value["$bytes"], validate=True)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def call(tool, **args):
    """Call the host function `tool` (e.g. "http.send"); its value, or `Err` of the WIT
    error case it failed with, as the component bindings raise."""
    global _next_id
    _next_id += 1
    frame = {"v": 1, "id": _next_id, "op": "call", "tool": tool, "args": args}
    answer = json.loads(_host.call(json.dumps(frame, cls=_Encoder).encode("utf-8")))
    if answer.get("id") != _next_id:
        raise RuntimeError(f"the host answered call {answer.get('id')}, not {_next_id}")
    if answer.get("ok"):
        return _decode(answer.get("value"))
    error = answer.get("error") or {}
    case = _CASES.get(error.get("case"))
    if case is None:
        # The frame itself was refused: a bug of this backend, not of the script.
        raise RuntimeError(f"host call {tool}: {error.get('kind')}: {error.get('message')}")
    raise Err(case(error.get("message", "")))
