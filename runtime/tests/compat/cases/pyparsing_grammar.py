import pyparsing as pp
integer = pp.pyparsing_common.integer
ident = pp.pyparsing_common.identifier
expr = pp.infix_notation(integer | ident, [
    (pp.one_of("* /"), 2, pp.OpAssoc.LEFT),
    (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT),
])
print(expr.parse_string("1 + 2 * x - (3 - y) / 4").as_list())
kv = pp.Dict(pp.Group(ident + pp.Suppress("=") + (integer | pp.QuotedString('"')))[1, ...])
r = kv.parse_string('a=1 name="automa" n=42')
print(r.as_dict())
try:
    integer.parse_string("abc")
except pp.ParseException as e:
    print("error:", e)
