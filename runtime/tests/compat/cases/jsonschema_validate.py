import jsonschema
from jsonschema import Draft7Validator
schema = {"type": "object", "properties": {"port": {"type": "integer", "maximum": 65535},
          "host": {"type": "string", "format": "hostname"}}, "required": ["host", "port"],
          "additionalProperties": False}
v = Draft7Validator(schema)
print(v.is_valid({"host": "a.example", "port": 80}))
print(sorted(e.message for e in v.iter_errors({"port": 70000, "extra": 1})))
try:
    jsonschema.validate([1, "x"], {"type": "array", "items": {"type": "integer"}})
except jsonschema.ValidationError as e:
    print("error at", list(e.absolute_path), e.validator)
