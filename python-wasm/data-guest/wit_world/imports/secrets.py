"""`automa:host/secrets`."""

from automa_door import call


def get(name):
    return call("secrets.get", name=name)
