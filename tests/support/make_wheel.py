"""Builds a tiny pure-Python wheel for the dependency tests.

Usage: make_wheel.py OUT_DIR NAME VERSION MODULE_SOURCE
"""

import base64
import hashlib
import pathlib
import sys
import zipfile

out, name, version, source = sys.argv[1:5]
files = {
    f"{name}/__init__.py": source.encode(),
    f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
    f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: automa-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{name}-{version}.dist-info/RECORD,,")
wheel = pathlib.Path(out) / f"{name}-{version}-py3-none-any.whl"
with zipfile.ZipFile(wheel, "w") as archive:
    for path, data in files.items():
        archive.writestr(path, data)
    archive.writestr(f"{name}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
print(wheel)
