from marshmallow import Schema, fields, validate, ValidationError, post_load
import datetime as dt

class User(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=2))
    email = fields.Email(required=True)
    born = fields.Date()
    roles = fields.List(fields.Str(validate=validate.OneOf(["admin", "user"])), load_default=list)

    @post_load
    def tag(self, data, **kwargs):
        data["ok"] = True
        return data

s = User()
print(s.load({"name": "ada", "email": "ada@a.example", "born": "1815-12-10"}))
try:
    s.load({"name": "a", "email": "nope", "roles": ["root"]})
except ValidationError as e:
    print(sorted(e.messages.items()))
print(s.dumps({"name": "bob", "email": "b@b.example", "born": dt.date(2000, 1, 2), "roles": []}))
