"""Builds a tiny wheel for the dependency tests.

Usage: make_wheel.py OUT_DIR NAME VERSION MODULE_SOURCE [options]
  --requires REQ    a Requires-Dist line (repeatable)
  --tag TAG         the wheel's tag (default py3-none-any; e.g. py3-none-manylinux_2_28_x86_64)
  --random N        add N incompressible bytes (a big download)
  --zeros N         add N zero bytes, deflated (small download, big when unpacked)
"""

import argparse
import base64
import hashlib
import pathlib
import random
import zipfile

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("name")
parser.add_argument("version")
parser.add_argument("source")
parser.add_argument("--requires", action="append", default=[])
parser.add_argument("--tag", default="py3-none-any")
parser.add_argument("--random", type=int, default=0)
parser.add_argument("--zeros", type=int, default=0)
args = parser.parse_args()
name, version = args.name, args.version

metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
metadata += "".join(f"Requires-Dist: {r}\n" for r in args.requires)
pure = "true" if args.tag.endswith("-any") else "false"
files = {
    f"{name}/__init__.py": args.source.encode(),
    f"{name}-{version}.dist-info/METADATA": metadata.encode(),
    f"{name}-{version}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: automa-tests\nRoot-Is-Purelib: {pure}\nTag: {args.tag}\n".encode(),
}
if args.random:
    files[f"{name}/random.bin"] = random.Random(1).randbytes(args.random)
if args.zeros:
    files[f"{name}/zeros.bin"] = bytes(args.zeros)
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{name}-{version}.dist-info/RECORD,,")
wheel = pathlib.Path(args.out) / f"{name}-{version}-{args.tag}.whl"
with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    for path, data in files.items():
        archive.writestr(path, data)
    archive.writestr(f"{name}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
print(wheel)
