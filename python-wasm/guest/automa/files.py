"""Files beyond the mounted directories: artifacts of the run.

Ordinary file access uses `open()` on the mounts: `/data` (this script's persistent
directory), `/tmp` (scratch for this run), `/artifacts` (files kept with the job) and
`/shared/<name>` (directories an admin shared).
"""

import errno

from wit_world.imports import files as _host

from .errors import TooLargeError, call


def publish(name, data, content_type=None):
    """Keep `data` (bytes or str) as a downloadable artifact named `name`.

    An artifact counts against the run's `/artifacts` disk quota with the files written
    there; one that does not fit raises `OSError` with `errno.ENOSPC`, as such a write
    does."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        call("files.publish", _host.publish_artifact, str(name), bytes(data), content_type)
    except TooLargeError as e:
        raise OSError(errno.ENOSPC, str(e)) from None


def mounts():
    """The directories this run can use."""
    return list(_host.mounts())
