from packaging.version import Version
from packaging.specifiers import SpecifierSet
from packaging.requirements import Requirement
from packaging.markers import Marker
vs = sorted(Version(v) for v in ["1.10", "1.2", "1.2rc1", "1.2.post1", "2.0.dev3", "1!0.1"])
print([str(v) for v in vs])
spec = SpecifierSet(">=1.2,<2,!=1.5.*")
print([v for v in ["1.1", "1.2", "1.5.3", "1.9", "2.0"] if v in spec])
r = Requirement('requests[socks]>=2.31; python_version >= "3.8"')
print(r.name, sorted(r.extras), str(r.specifier), Marker('os_name == "nt"').evaluate({"os_name": "posix"}))
