"""`automa:host/plugins`."""

import automa_door as _door


def call(name, function, args_json):
    return _door.call("plugins.call", name=name, function=function, args_json=args_json)


def describe(name):
    return _door.call("plugins.describe", name=name)
