from datetime import datetime
from dateutil.rrule import rrule, rrulestr, MONTHLY, MO, TU
r = rrule(MONTHLY, count=4, byweekday=MO(1), dtstart=datetime(2025, 1, 1, 9))
print([d.isoformat() for d in r])
s = rrulestr("DTSTART:20250101T100000\nRRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=5")
print([d.strftime("%a %d %b %H:%M") for d in s])
print(rrule(MONTHLY, bymonthday=-1, dtstart=datetime(2024, 1, 1)).between(datetime(2024, 1, 1), datetime(2024, 6, 1)))
