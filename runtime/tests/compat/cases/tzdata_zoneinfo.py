from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones
tz = ZoneInfo("America/Sao_Paulo")
print(datetime(2025, 1, 1, 12, tzinfo=tz).isoformat(), datetime(2018, 12, 1, tzinfo=tz).tzname())
lon = ZoneInfo("Europe/London")
d = datetime(2025, 3, 30, 0, 30, tzinfo=lon)
print([(d + timedelta(hours=h)).astimezone(lon).isoformat() for h in range(3)])
print("Pacific/Chatham" in available_timezones())
