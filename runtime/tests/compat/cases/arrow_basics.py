import arrow
a = arrow.get("2025-06-15T10:20:30+00:00")
print(a.shift(days=+20, hours=-3).isoformat())
print(a.to("Asia/Tokyo").format("YYYY-MM-DD HH:mm ZZ"))
print(a.floor("week").isoformat(), a.ceil("month").isoformat())
print(a.humanize(a.shift(hours=2)), a.humanize(a.shift(days=-3), locale="de"))
print([r.format("MMM D") for r in arrow.Arrow.range("week", a, a.shift(weeks=3))])
