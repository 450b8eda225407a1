"""Running one script: the part both runners share (the component's and the data profile's).

A runner hands over the source, its file name and the arguments; `run_script` runs the
top level, calls `main(**args)` when the script defines one, and returns the JSON text of
the result. Every failure is a `ScriptFailure` carrying what the host reports: the
exception's class name, its message and the script's own traceback.
"""

import ast
import json
import marshal
import os
import re
import sys
import time
import traceback
from types import CodeType

import automa
import automa_sandbox
import automa_tz


class ScriptFailure(Exception):
    """How a script failed, as the host reports it."""

    def __init__(self, kind, message, traceback_text=""):
        super().__init__(kind, message, traceback_text)
        self.kind = kind
        self.message = message
        self.traceback = traceback_text


_SCRIPT_MODULE = "__automa_script__"

# The wall clock (ns) when the last run entered the runner: benchmarks compare it
# with the host's clock at the call to see what the component's entry costs.
entered_ns = 0

# A `def main` (or `async def main`) at the start of a line: at the top level.
_TOP_LEVEL_MAIN = re.compile(r"^(?:async[ \t]+)?def[ \t]+main\b", re.MULTILINE)
# Anything that may call `main(...)`; without one the script cannot call it itself.
_MAIN_CALL = re.compile(r"(?<!def )\bmain[ \t]*\(")


def _defines_main(tree):
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main"
        for node in tree.body
    )


def _script_shape(code, source, filename):
    """Whether the script defines `main` at its top level, and whether it calls it
    itself. The syntax tree costs as much to build as the compile, so it is built only
    when the compiled code and the text cannot tell (the script names a `main(` call)."""
    if not any(isinstance(c, CodeType) and c.co_name == "main" for c in code.co_consts):
        return False, False
    if _MAIN_CALL.search(source) is None:
        return _TOP_LEVEL_MAIN.search(source) is not None, False
    tree = ast.parse(source, filename=filename)
    has_main = _defines_main(tree)
    return has_main, has_main and _calls_main_itself(tree)


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


def script_error(exc, filename):
    """The `ScriptFailure` of `exc` raised by the script named `filename`."""
    if isinstance(exc, SyntaxError):
        text = "".join(traceback.format_exception_only(type(exc), exc))
        message = f"{exc.msg} ({exc.filename}, line {exc.lineno})"
        return ScriptFailure(type(exc).__name__, message, text)
    return ScriptFailure(type(exc).__name__, str(exc), _script_traceback(exc, filename))


def flush():
    """Flush the script's output streams."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def compile_script(source, filename):
    """The byte code of `source` named `filename`, serialised for `run_script`."""
    try:
        return marshal.dumps(compile(source, filename, "exec"))
    except SyntaxError as exc:
        raise script_error(exc, filename) from None


def run_script(source, filename, args_json, compiled=None):
    """Run `source` as a script named `filename` with the JSON object `args_json`; the
    JSON text of what `main` returned (`null` without `main`). `compiled` is what
    `compile_script` made of this source, when the host kept it: loading it costs a
    fraction of compiling again in a fresh instance."""
    global entered_ns
    entered_ns = time.time_ns()
    try:
        args = json.loads(args_json) if args_json not in ("", "{}") else {}
    except ValueError as exc:
        raise ScriptFailure("ValueError", f"arguments are not valid JSON: {exc}")
    if not isinstance(args, dict):
        raise ScriptFailure("TypeError", "arguments must be a JSON object")
    automa_sandbox.register_source(filename, source)
    try:
        code = marshal.loads(compiled) if compiled else compile(source, filename, "exec")
        has_main, calls_main = _script_shape(code, source, filename)
    except SyntaxError as exc:
        raise script_error(exc, filename) from None

    if "/packages" not in sys.path and os.path.isdir("/packages"):
        sys.path.insert(0, "/packages")
        _prefer_declared_packages()
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
        if has_main and not calls_main:
            main = module.__dict__["main"]
            result = main(**args)
            if hasattr(result, "__await__"):
                import asyncio

                result = asyncio.run(_await(result))
    except SystemExit as exc:
        if exc.code in (None, 0):
            return "null"
        raise ScriptFailure("SystemExit", f"the script exited with status {exc.code}") from None
    except BaseException as exc:
        raise script_error(exc, filename) from None
    try:
        return json.dumps(result, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ScriptFailure("TypeError", str(exc)) from None


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
