import fastjsonschema
schema = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0},
                   "tags": {"type": "array", "items": {"type": "string"}, "default": []}},
    "required": ["name"],
}
validate = fastjsonschema.compile(schema)
print(validate({"name": "ada", "age": 36}))
for bad in [{"age": 3}, {"name": "x", "age": -1}, {"name": "", "tags": [1]}]:
    try:
        validate(bad)
    except fastjsonschema.JsonSchemaValueException as e:
        print("invalid:", e.message)
