"""`automa:host/types`: the error cases, each carrying its message as `value`."""

from dataclasses import dataclass


@dataclass
class Error_Denied:
    value: str


@dataclass
class Error_InvalidInput:
    value: str


@dataclass
class Error_Timeout:
    value: str


@dataclass
class Error_TooLarge:
    value: str


@dataclass
class Error_LimitReached:
    value: str


@dataclass
class Error_NotFound:
    value: str


@dataclass
class Error_Failed:
    value: str


@dataclass
class ScriptError:
    kind: str
    message: str
    traceback: str
