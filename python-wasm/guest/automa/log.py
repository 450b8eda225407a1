"""Structured log lines and progress, shown live in the job's log."""

import json as _json

from wit_world.imports import log as _host

_LEVELS = {
    "debug": _host.Level.DEBUG,
    "info": _host.Level.INFO,
    "warning": _host.Level.WARNING,
    "error": _host.Level.ERROR,
}


def _write(level, message, fields):
    fields_json = _json.dumps(fields, default=str) if fields else None
    _host.write(_LEVELS[level], str(message), fields_json)


def debug(message, **fields):
    """Log a diagnostic line; keyword arguments become structured fields."""
    _write("debug", message, fields)


def info(message, **fields):
    """Log a line about normal progress."""
    _write("info", message, fields)


def warning(message, **fields):
    """Log something unexpected that the script survived."""
    _write("warning", message, fields)


warn = warning


def error(message, **fields):
    """Log a failure."""
    _write("error", message, fields)


def progress(fraction, message=None):
    """Report progress as a fraction from 0 to 1 (clamped)."""
    value = min(1.0, max(0.0, float(fraction)))
    _host.progress(value, None if message is None else str(message))
