import datetime as dt
import humanize
print(humanize.naturalsize(1_234_567), humanize.naturalsize(1_234_567, binary=True))
print(humanize.intcomma(12345678), humanize.intword(3_400_000_000), humanize.ordinal(22))
print(humanize.naturaldelta(dt.timedelta(hours=26)), humanize.precisedelta(dt.timedelta(seconds=3725)))
print(humanize.naturaldate(dt.date(2020, 3, 5)), humanize.apnumber(7), humanize.fractional(0.75))
