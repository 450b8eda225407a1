"""Files beyond the mounted directories: artifacts of the run.

Ordinary file access uses `open()` on the mounts: `/data` (this script's persistent
directory), `/tmp` (scratch for this run), `/artifacts` (files kept with the job) and
`/shared/<name>` (directories an admin shared).
"""

from wit_world.imports import files as _host

from .errors import call


def publish(name, data, content_type=None):
    """Keep `data` (bytes or str) as a downloadable artifact named `name`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    call("files.publish", _host.publish_artifact, str(name), bytes(data), content_type)


def mounts():
    """The directories this run can use."""
    return list(_host.mounts())
