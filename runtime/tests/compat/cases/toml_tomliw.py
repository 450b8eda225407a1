import tomllib, toml, tomli_w
doc = {"title": "job", "owner": {"name": "ada", "ids": [1, 2]}, "servers": [{"host": "a", "port": 80}]}
text = tomli_w.dumps(doc)
print(text)
print(tomllib.loads(text) == doc, toml.loads(text) == doc)
print(toml.dumps({"a": {"b": 1.5, "c": "x"}}))
