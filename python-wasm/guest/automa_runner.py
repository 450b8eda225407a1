"""The generic runner: the component's entry point.

Its top level runs once, at build time, inside componentize-py's pre-initialisation;
the interpreter state it leaves behind (imported modules, the time-zone database) is
snapshotted into the component, so every run starts warm.
"""

import ast
import importlib
import json
import os
import sys
import traceback

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

import automa  # noqa: E402  (after the stdlib, so the SDK sees a complete interpreter)
import requests  # noqa: E402,F401  (the shim, pre-imported so scripts start fast)
import gc  # noqa: E402

# Everything imported so far lives as long as the instance: moving it out of the
# collector's reach keeps a run's first collections from walking (and so touching,
# page by page, in a fresh copy-on-write instance) the whole snapshot heap.
gc.collect()
gc.freeze()

_SCRIPT_MODULE = "__automa_script__"


def _defines_main(tree):
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main"
        for node in tree.body
    )


def _calls_main_itself(tree):
    """Whether the top level calls `main()` (also as `asyncio.run(main())`): such a
    script drives itself, as under python3, and Automa does not call `main` again."""
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        # `if __name__ == "__main__": main()` does not run: Automa calls main.
        if isinstance(statement, ast.If) and any(
            isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(statement.test)
        ):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "main":
                return True
    return False


def _json_default(value):
    import dataclasses
    import datetime
    import decimal
    import enum
    import uuid

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(
        f"main() returned a {type(value).__name__}, which is not JSON-serializable; "
        "return dicts, lists, strings, numbers, booleans or None"
    )


def _script_traceback(exc, filename):
    """The traceback without the runner's own frames: users see only their code."""
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename != filename:
        frames = traceback.StackSummary.from_list(frames[1:])
    lines = ["Traceback (most recent call last):\n"]
    lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines)


def _script_error(exc, filename):
    if isinstance(exc, SyntaxError):
        text = "".join(traceback.format_exception_only(type(exc), exc))
        message = f"{exc.msg} ({exc.filename}, line {exc.lineno})"
        return ScriptError(kind=type(exc).__name__, message=message, traceback=text)
    return ScriptError(
        kind=type(exc).__name__,
        message=str(exc),
        traceback=_script_traceback(exc, filename),
    )


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


class WitWorld(wit_world.WitWorld):
    def run(self, source: str, filename: str, args_json: str) -> str:
        try:
            return self._run(source, filename, args_json)
        except Err:
            raise
        finally:
            _flush()

    def describe(self, source: str, filename: str) -> str:
        try:
            return json.dumps(automa_describe.describe(source, filename), default=repr)
        except SyntaxError as exc:
            raise Err(_script_error(exc, filename))
        except Exception as exc:
            raise Err(ScriptError(type(exc).__name__, str(exc), ""))

    def _run(self, source, filename, args_json):
        try:
            args = json.loads(args_json) if args_json else {}
        except ValueError as exc:
            raise Err(ScriptError("ValueError", f"arguments are not valid JSON: {exc}", ""))
        if not isinstance(args, dict):
            raise Err(ScriptError("TypeError", "arguments must be a JSON object", ""))
        automa_sandbox.register_source(filename, source)
        try:
            code = compile(source, filename, "exec")
            # Only a script that names `main` at its top level needs its syntax tree
            # looked at; building one costs as much as the compile itself.
            tree = ast.parse(source, filename=filename) if "main" in code.co_names else None
        except SyntaxError as exc:
            raise Err(_script_error(exc, filename))

        if "/packages" not in sys.path and os.path.isdir("/packages"):
            sys.path.insert(0, "/packages")
            _prefer_declared_packages()
        has_main = tree is not None and _defines_main(tree)
        # Scripts written for plain python keep their `if __name__ == "__main__":` block;
        # a script with `main` is driven by Automa, which passes the arguments itself.
        module_name = _SCRIPT_MODULE if has_main else "__main__"
        module = type(sys)(module_name)
        module.__file__ = filename
        module.__builtins__ = __builtins__
        sys.modules[module_name] = module
        sys.argv = [filename]
        automa.args = dict(args)
        try:
            exec(code, module.__dict__)
            result = None
            if has_main and not _calls_main_itself(tree):
                main = module.__dict__["main"]
                result = main(**args)
                if hasattr(result, "__await__"):
                    import asyncio

                    result = asyncio.run(_await(result))
        except SystemExit as exc:
            if exc.code in (None, 0):
                return "null"
            raise Err(ScriptError("SystemExit", f"the script exited with status {exc.code}", ""))
        except BaseException as exc:
            raise Err(_script_error(exc, filename))
        try:
            return json.dumps(result, default=_json_default, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise Err(ScriptError("TypeError", str(exc), ""))


# Built-in modules a script's own requirements may replace: the `requests` shim over
# automa.http, and the time-zone data loaded at build time.
_REPLACEABLE = ("requests", "tzdata")


def _prefer_declared_packages():
    """A distribution the script declared wins over the built-in module of its name."""
    for name in _REPLACEABLE:
        if not os.path.isfile(f"/packages/{name}/__init__.py"):
            continue
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        if name == "tzdata":
            automa_tz.use_declared_package()


async def _await(awaitable):
    return await awaitable
