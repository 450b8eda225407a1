import attrs, cattrs
from datetime import date

@attrs.define
class Item:
    name: str
    qty: int = attrs.field(validator=attrs.validators.ge(0))

@attrs.frozen
class Order:
    id: int
    day: date
    items: list[Item] = attrs.Factory(list)

conv = cattrs.Converter()
conv.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
conv.register_unstructure_hook(date, lambda d: d.isoformat())
o = conv.structure({"id": 3, "day": "2025-02-01", "items": [{"name": "nut", "qty": "4"}]}, Order)
print(o)
print(conv.unstructure(o), attrs.asdict(o.items[0]), attrs.evolve(o, id=4).id)
try:
    Item("bolt", -1)
except ValueError as e:
    print("invalid:", e.args[0])
