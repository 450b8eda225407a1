"""Runs the schemathesis CLI (arguments as for `schemathesis`) with one work-around.

CPython 3.11.7's `ast.parse` can raise `SystemError: AST constructor recursion depth
mismatch` when called deep in a call stack (fixed in later CPython releases). Hypothesis
parses a module's source to label a lambda in a strategy's repr, and schemathesis builds
such strategies deep in its coverage phase, so the run stopped with an internal error.
The label is only a description; a plain one stands in when the parse fails.
"""

import sys

import hypothesis.internal.lambda_sources as lambda_sources

_describe = lambda_sources.lambda_description


def _label(function):
    try:
        return _describe(function)
    except SystemError:
        return "lambda"


lambda_sources.lambda_description = _label

from schemathesis.cli import schemathesis  # noqa: E402

sys.exit(schemathesis())
