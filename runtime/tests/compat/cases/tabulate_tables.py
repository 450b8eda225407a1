from tabulate import tabulate
rows = [["apples", 3, 1.5], ["pears", 12, 0.25], ["figs", 100, 10]]
print(tabulate(rows, headers=["fruit", "n", "price"], tablefmt="github"))
print(tabulate(rows, headers=["fruit", "n", "price"], tablefmt="grid", floatfmt=".2f"))
print(tabulate([{"a": 1, "b": None}], headers="keys", missingval="-", tablefmt="plain"))
