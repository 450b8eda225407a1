"""`automa:host/log`."""

import enum

from automa_door import call


class Level(enum.Enum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def write(level, message, fields_json):
    call("log.write", level=level.value, message=message, fields_json=fields_json)


def progress(fraction, message):
    call("log.progress", fraction=fraction, message=message)
