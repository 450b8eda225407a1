"""`automa:host/files`."""

from automa_door import call


def publish_artifact(name, data, content_type):
    call("files.publish_artifact", name=name, data=data, content_type=content_type)


def mounts():
    return call("files.mounts")
