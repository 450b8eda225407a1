"""A time-zone database inside the snapshot.

componentize-py bundles no package data files, so at build time the zone files of the
pinned `tzdata` package are read into memory; the snapshot keeps them, and `zoneinfo`
is taught to look there. No host directory is mounted for it.
"""

import io
import os

_ZONES = {}


def _load_build_time_zones():
    try:
        import tzdata.zoneinfo as tz_package
    except ImportError:
        return
    root = os.path.dirname(tz_package.__file__)
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            if name.startswith("__") or name.endswith((".py", ".pyc", ".tab", ".zi")):
                continue
            path = os.path.join(directory, name)
            key = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, "rb") as handle:
                data = handle.read()
            if data.startswith(b"TZif"):
                _ZONES[key] = data


def available():
    """The names of every zone in the database."""
    return set(_ZONES)


def install():
    import zoneinfo
    import zoneinfo._common as common
    import zoneinfo._tzpath as tzpath

    _load_build_time_zones()

    def load_tzdata(key):
        data = _ZONES.get(key)
        if data is None:
            raise zoneinfo.ZoneInfoNotFoundError(f"No time zone found with key {key}")
        return io.BytesIO(data)

    global _original
    _original = (common.load_tzdata, tzpath.available_timezones, zoneinfo.available_timezones)
    common.load_tzdata = load_tzdata
    zoneinfo.reset_tzpath(to=[])
    tzpath.available_timezones = available
    zoneinfo.available_timezones = available


_original = None


def use_declared_package():
    """A `tzdata` the script declared as a requirement replaces the built-in zones."""
    import zoneinfo
    import zoneinfo._common as common
    import zoneinfo._tzpath as tzpath

    if _original is not None:
        common.load_tzdata, tzpath.available_timezones, zoneinfo.available_timezones = _original
    zoneinfo.ZoneInfo.clear_cache()
