from datetime import datetime
import pytz
tz = pytz.timezone("Europe/Berlin")
print(tz.localize(datetime(2025, 3, 30, 3, 30)).isoformat(), tz.localize(datetime(2025, 1, 1, 12)).tzname())
print(pytz.utc.localize(datetime(2025, 6, 1, 12)).astimezone(pytz.timezone("Australia/Sydney")).isoformat())
try:
    tz.localize(datetime(2025, 3, 30, 2, 30), is_dst=None)
except pytz.exceptions.NonExistentTimeError as e:
    print("nonexistent", e)
print(len(pytz.all_timezones) > 400, pytz.country_timezones("nz"))
