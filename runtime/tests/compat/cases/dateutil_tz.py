from datetime import datetime
from dateutil import tz
ny = tz.gettz("America/New_York")
d = datetime(2025, 3, 9, 1, 30, tzinfo=ny)
print(d.utcoffset(), (d.replace(hour=3)).utcoffset(), tz.datetime_ambiguous(datetime(2025, 11, 2, 1, 30), ny))
print(datetime(2025, 7, 1, 12, tzinfo=tz.UTC).astimezone(tz.gettz("Europe/Paris")).isoformat())
