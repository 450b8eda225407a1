from cerberus import Validator
schema = {"name": {"type": "string", "required": True, "maxlength": 10},
          "age": {"type": "integer", "min": 18}, "email": {"type": "string", "regex": r"[^@]+@[^@]+"},
          "role": {"type": "string", "allowed": ["admin", "user"], "default": "user"}}
v = Validator(schema)
print(v.validate({"name": "ada", "age": 36, "email": "a@b.c"}), v.document)
print(v.validate({"name": "a very long name", "age": 3, "email": "nope", "role": "root"}), v.errors)
print(v.normalized({"name": "x"}))
