from datetime import datetime, timezone
from icalendar import Calendar, Event
cal = Calendar()
cal.add("prodid", "-//automa compat//EN")
cal.add("version", "2.0")
ev = Event()
ev.add("uid", "42@automa")
ev.add("summary", "Stand-up, daily")
ev.add("dtstart", datetime(2025, 4, 1, 9, 0, tzinfo=timezone.utc))
ev.add("dtend", datetime(2025, 4, 1, 9, 15, tzinfo=timezone.utc))
ev.add("dtstamp", datetime(2025, 3, 1, tzinfo=timezone.utc))
ev.add("rrule", {"freq": "daily", "count": 3})
cal.add_component(ev)
data = cal.to_ical()
print(data.decode().replace("\r\n", "|"))
back = Calendar.from_ical(data)
e = back.walk("VEVENT")[0]
print(str(e["summary"]), e.decoded("dtstart").isoformat(), dict(e["rrule"]))
