"""What the sandbox cannot offer, said plainly.

Scripts run as WebAssembly: there are no processes to start, no display, no terminal
and no native libraries to load. Importing a module that needs one of those raises an
ImportError naming the reason; operations that cannot work (starting a process, a
thread, a process pool) raise an error naming the sandbox rule instead of failing
somewhere deep inside the library. The README lists the same modules.
"""

import sys

_NO_DISPLAY = "it needs a display (scripts run headless as WebAssembly)"
_NO_TERMINAL = "it needs an interactive terminal, which scripts do not have"
_NO_NATIVE = "it loads native libraries, which WebAssembly cannot"
_NO_PROCESSES = "there are no processes or signals in the WebAssembly sandbox"
_NO_BZIP2 = "the sandbox's CPython is built without the bzip2 library (gzip, zlib and zipfile work)"
_NO_LZMA = "the sandbox's CPython is built without liblzma (gzip, zlib and zipfile work)"
_NO_ZSTD = "the sandbox's CPython is built without libzstd (gzip, zlib and zipfile work)"
_NO_DBM = "the sandbox's CPython has no gdbm/ndbm; dbm.sqlite3 and dbm.dumb work"
_NO_USERS = "WASI has no user or group database"
_NO_INTERPRETERS = "the WebAssembly build of CPython has no subinterpreters"
_DATA_PROFILE = (
    "it is compiled code, which comes built in with Automa's data runtime profile: set the "
    "script's runtime to \"data\" (its Runtime page, or settings.runtime in the API)"
)

# Module (or package) name -> why it cannot work. Filled in by what the interpreter
# lacks; the stdlib test imports every other module of `sys.stdlib_module_names`.
UNAVAILABLE = {
    "tkinter": _NO_DISPLAY,
    "_tkinter": _NO_DISPLAY,
    "turtle": _NO_DISPLAY,
    "turtledemo": _NO_DISPLAY,
    "idlelib": _NO_DISPLAY,
    "curses": _NO_TERMINAL,
    "_curses": _NO_TERMINAL,
    "_curses_panel": _NO_TERMINAL,
    "readline": _NO_TERMINAL,
    "ctypes": _NO_NATIVE,
    "_ctypes": _NO_NATIVE,
    "ensurepip": "installing packages happens on the server (declare requirements instead)",
    "venv": "virtual environments are made on the server (declare requirements instead)",
    "bz2": _NO_BZIP2,
    "_bz2": _NO_BZIP2,
    "compression.bz2": _NO_BZIP2,
    "encodings.bz2_codec": _NO_BZIP2,
    "lzma": _NO_LZMA,
    "_lzma": _NO_LZMA,
    "compression.lzma": _NO_LZMA,
    "compression.zstd": _NO_ZSTD,
    "_zstd": _NO_ZSTD,
    "dbm.gnu": _NO_DBM,
    "_gdbm": _NO_DBM,
    "dbm.ndbm": _NO_DBM,
    "_dbm": _NO_DBM,
    "fcntl": "WASI has no file locking or descriptor control",
    "mmap": "WASI has no memory-mapped files",
    "resource": "WASI has no process resource limits (the host sets them)",
    "syslog": "there is no system log in the sandbox (use automa.log)",
    "termios": _NO_TERMINAL,
    "tty": _NO_TERMINAL,
    "pty": _NO_TERMINAL,
    "grp": _NO_USERS,
    "pwd": _NO_USERS,
    "_interpreters": _NO_INTERPRETERS,
    "concurrent.interpreters": _NO_INTERPRETERS,
    "concurrent.futures.interpreter": _NO_INTERPRETERS,
    "_remote_debugging": _NO_PROCESSES,
    "asyncio.tools": _NO_PROCESSES,
    "_multiprocessing": _NO_PROCESSES,
    "multiprocessing.forkserver": _NO_PROCESSES,
    "multiprocessing.heap": _NO_PROCESSES,
    "multiprocessing.popen_fork": _NO_PROCESSES,
    "multiprocessing.popen_forkserver": _NO_PROCESSES,
    "multiprocessing.popen_spawn_posix": _NO_PROCESSES,
    "multiprocessing.resource_tracker": _NO_PROCESSES,
    "multiprocessing.shared_memory": _NO_PROCESSES,
    "multiprocessing.sharedctypes": _NO_PROCESSES,
    "multiprocessing.synchronize": _NO_PROCESSES,
    # The scientific stack: native code, compiled into the data profile's interpreter.
    "numpy": _DATA_PROFILE,
    "pandas": _DATA_PROFILE,
    "scipy": _DATA_PROFILE,
    "sklearn": _DATA_PROFILE,
    "statsmodels": _DATA_PROFILE,
    "matplotlib": _DATA_PROFILE,
    "PIL": _DATA_PROFILE,
    "lxml": _DATA_PROFILE,
    "contourpy": _DATA_PROFILE,
    "kiwisolver": _DATA_PROFILE,
}

# Modules that exist only on Windows: they fail here exactly as under Linux's python3,
# so they keep CPython's own ImportError.
WINDOWS_ONLY = {
    "msvcrt", "nt", "winreg", "winsound", "_winapi", "_overlapped", "_wmi",
    "_win_cp_codecs", "encodings.mbcs", "encodings.oem", "encodings.cp65001",
    "asyncio.windows_events", "asyncio.windows_utils", "multiprocessing.popen_spawn_win32",
}

SANDBOX_RULE = (
    "Automa runs scripts as WebAssembly, where programs cannot be started; "
    "reach other systems through automa.http, sockets to allowed hosts, or a plugin"
)


class _UnavailableFinder:
    """A meta-path finder that refuses the modules in UNAVAILABLE with their reason."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.partition(".")[0]
        blocked = name if name in UNAVAILABLE else top
        reason = UNAVAILABLE.get(blocked)
        if reason is None:
            return None
        raise ModuleNotFoundError(
            f"No module named {name!r}: {blocked} is not available in the Automa sandbox "
            f"because {reason}",
            name=name,
        )

    @staticmethod
    def invalidate_caches():
        pass


def refuse_processes(operation):
    """Raise the error a process-starting `operation` gets in the sandbox."""
    raise PermissionError(f"{operation}: {SANDBOX_RULE}")


def _patch_subprocess(module):
    def __init__(self, args, *rest, **kwargs):
        refuse_processes(f"subprocess cannot run {args!r}")

    module.Popen.__init__ = __init__


def _patch_multiprocessing(module):
    from multiprocessing import process

    def start(self):
        refuse_processes("multiprocessing.Process.start()")

    process.BaseProcess.start = start

    # Queues, pipes and pools need os.pipe, which WASI lacks: say why at the call
    # (loguru's enqueue=True met an AttributeError deep inside multiprocessing).
    from multiprocessing import context

    def refusing(name):
        def method(self, *args, **kwargs):
            refuse_processes(f"multiprocessing.{name}()")

        return method

    for name in ("Pipe", "Queue", "JoinableQueue", "SimpleQueue", "Pool"):
        setattr(context.BaseContext, name, refusing(name))
        # The package binds its default context's methods when first imported.
        setattr(module, name, getattr(context._default_context, name))


def _patch_process_pool(module):
    original = module.ProcessPoolExecutor.__init__

    def __init__(self, *args, **kwargs):
        refuse_processes("concurrent.futures.ProcessPoolExecutor")

    __init__.__wrapped__ = original
    module.ProcessPoolExecutor.__init__ = __init__


THREAD_RULE = (
    "the WebAssembly sandbox has no threads; concurrent.futures.ThreadPoolExecutor "
    "works (it runs each task when it is submitted) and asyncio works"
)


def _patch_threading(module):
    def start(self):
        raise RuntimeError(f"can't start new thread: {THREAD_RULE}")

    module.Thread.start = start


def _patch_thread_pool(module):
    """A ThreadPoolExecutor without threads: each task runs when it is submitted, so
    code that fans work out to a pool (and waits for it) still gets every result."""
    import concurrent.futures._base as base

    def submit(self, fn, /, *args, **kwargs):
        if getattr(self, "_automa_shutdown", False):
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = base.Future()
        if not future.set_running_or_notify_cancel():
            return future
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._automa_shutdown = True

    module.ThreadPoolExecutor.submit = submit
    module.ThreadPoolExecutor.shutdown = shutdown


def _patch_loguru(module):
    """loguru's `enqueue=True` hands each record to a writer thread through a
    multiprocessing queue. The sandbox has one thread and one process, so there is no
    writer to hand it to: the record is written at once instead, in the same order and
    form (the logging call waits for the sink, which is what enqueue would spare), and
    `logger.complete()` has nothing left to wait for."""
    import functools

    add = module.Logger.add

    @functools.wraps(add)
    def add_without_queue(self, sink, *args, enqueue=False, **kwargs):
        return add(self, sink, *args, enqueue=False, **kwargs)

    module.Logger.add = add_without_queue


# Module name -> patch applied right after it is first imported.
_PATCHES = {
    "loguru._logger": _patch_loguru,
    "subprocess": _patch_subprocess,
    "multiprocessing": _patch_multiprocessing,
    "concurrent.futures.process": _patch_process_pool,
    "concurrent.futures.thread": _patch_thread_pool,
    "threading": _patch_threading,
}


class _PatchingFinder:
    """Applies _PATCHES to modules imported later, through their loader."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch(module)

        loader.exec_module = exec_and_patch
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def _patch_os():
    import os

    def system(command):
        refuse_processes(f"os.system({command!r})")

    def popen(command, *args, **kwargs):
        refuse_processes(f"os.popen({command!r})")

    for name, replacement in (("system", system), ("popen", popen)):
        setattr(os, name, replacement)


def _patch_file_writes():
    """A write past a mount's disk quota is refused by the host, but a WASI stream
    cannot carry ENOSPC to this interpreter: its preview-1 adapter turns a stream
    error into EIO and a closed stream into EPIPE. The host answers the refusal as a
    closed stream, and EPIPE from a regular file (which never happens otherwise) is
    raised here as what it is: OSError(ENOSPC, "No space left on device")."""
    import _pyio
    import builtins
    import errno
    import io
    import os
    import stat
    import types

    def no_space(error, fd, name=None):
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            return error
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

    class FileIO(io.FileIO):
        def write(self, b):
            try:
                return super().write(b)
            except BrokenPipeError as e:
                raise no_space(e, self.fileno(), self.name) from None

    # The standard library's own open() (the pure-Python twin of io.open), with the
    # C buffered and text classes, over this FileIO.
    names = dict(_pyio.__dict__)
    names.update(
        FileIO=FileIO,
        BufferedReader=io.BufferedReader,
        BufferedWriter=io.BufferedWriter,
        BufferedRandom=io.BufferedRandom,
        TextIOWrapper=io.TextIOWrapper,
        DEFAULT_BUFFER_SIZE=io.DEFAULT_BUFFER_SIZE,
    )
    # (a staticmethod in the module, so that it can sit in a class unbound)
    code = getattr(_pyio.open, "__func__", _pyio.open)
    opener = types.FunctionType(code.__code__, names, "open", code.__defaults__)
    opener.__doc__ = io.open.__doc__
    io.open = opener
    builtins.open = opener

    write = os.write

    def os_write(fd, data, /):
        try:
            return write(fd, data)
        except BrokenPipeError as e:
            raise no_space(e, fd) from None

    os.write = os_write


def install():
    """Install the finders and patch what is already imported. Runs at build time."""
    sys.meta_path.insert(0, _UnavailableFinder)
    sys.meta_path.insert(1, _PatchingFinder)
    for name, patch in _PATCHES.items():
        module = sys.modules.get(name)
        if module is not None:
            patch(module)
    _patch_os()
    _patch_file_writes()
    # The standard library is mounted read-only; never try to write byte code.
    sys.dont_write_bytecode = True


def register_source(filename, source):
    """Make `source` known to linecache as `filename`, so tracebacks and `inspect`
    show the script's own lines (there is no file of that name in the sandbox)."""
    import linecache

    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # No mtime: linecache.checkcache keeps entries it cannot stat.
    linecache.cache[filename] = (len(source), None, lines, filename)
