"""The generic runner: the component's entry point.

Its top level runs once, at build time, inside componentize-py's pre-initialisation;
the interpreter state it leaves behind (imported modules, the time-zone database) is
snapshotted into the component, so every run starts warm.
"""

import importlib
import json

# Sockets and TLS through the host first: modules imported later (asyncio,
# http.client, urllib.request) decide at import time whether `ssl` exists.
import automa_socket  # noqa: I001
import automa_ssl
import automa_select

automa_socket.install()
automa_ssl.install()
automa_select.install()

import automa_sandbox  # noqa: E402
import automa_stdlib  # noqa: E402
import automa_tz  # noqa: E402
import automa_async  # noqa: E402
import automa_describe  # noqa: E402
import wit_world  # noqa: E402
from componentize_py_types import Err  # noqa: E402
from wit_world.imports.types import ScriptError  # noqa: E402

UNAVAILABLE = {}
for _name in automa_stdlib.MODULES:
    try:
        importlib.import_module(_name)
    except Exception as exc:  # recorded, and reported by the import test
        UNAVAILABLE[_name] = f"{type(exc).__name__}: {exc}"

automa_tz.install()
automa_async.install()
automa_sandbox.install()

import automa  # noqa: E402,F401  (after the stdlib, so the SDK sees a complete interpreter)
import automa_exec  # noqa: E402
import requests  # noqa: E402,F401  (the shim, pre-imported so scripts start fast)
import gc  # noqa: E402

# Everything imported so far lives as long as the instance: moving it out of the
# collector's reach keeps a run's first collections from walking (and so touching,
# page by page, in a fresh copy-on-write instance) the whole snapshot heap.
gc.collect()
gc.freeze()

class WitWorld(wit_world.WitWorld):
    def run(self, source: str, filename: str, code: bytes | None, args_json: str) -> str:
        try:
            return automa_exec.run_script(source, filename, args_json, code)
        except automa_exec.ScriptFailure as failure:
            raise Err(ScriptError(failure.kind, failure.message, failure.traceback)) from None
        finally:
            automa_exec.flush()

    def compile(self, source: str, filename: str) -> bytes:
        try:
            return automa_exec.compile_script(source, filename)
        except automa_exec.ScriptFailure as failure:
            raise Err(ScriptError(failure.kind, failure.message, failure.traceback)) from None

    def describe(self, source: str, filename: str) -> str:
        try:
            return json.dumps(automa_describe.describe(source, filename), default=repr)
        except SyntaxError as exc:
            failure = automa_exec.script_error(exc, filename)
            raise Err(ScriptError(failure.kind, failure.message, failure.traceback)) from None
        except Exception as exc:
            raise Err(ScriptError(type(exc).__name__, str(exc), ""))
