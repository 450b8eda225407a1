import io
from ruamel.yaml import YAML
src = """# deploy settings
name: nightly   # the job
schedule: "0 3 * * *"
steps:
  - fetch
  - build: {target: release, jobs: 2}
enabled: yes
"""
yaml = YAML()
doc = yaml.load(src)
doc["steps"].append("publish")
doc["retries"] = 3
out = io.StringIO()
yaml.dump(doc, out)
print(out.getvalue())
safe = YAML(typ="safe", pure=True)
print(safe.load("a: [1, 2.5, null, true]\nb: !!str 012\nwhen: 2025-01-02"))
