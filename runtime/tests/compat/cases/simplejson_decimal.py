from decimal import Decimal
import simplejson
data = simplejson.loads('{"price": 1.10, "n": 3, "nested": {"x": [1.5e3, null]}}', use_decimal=True)
print(data, type(data["price"]).__name__)
print(simplejson.dumps(data, sort_keys=True, use_decimal=True))
print(simplejson.dumps({"b": Decimal("2.50"), "a": (1, 2)}, indent="  ", item_sort_key=simplejson.simple_first))
try:
    simplejson.loads("{bad}")
except simplejson.JSONDecodeError as e:
    print("error:", e.msg, e.pos)
