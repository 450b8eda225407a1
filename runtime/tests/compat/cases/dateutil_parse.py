from dateutil import parser, tz
d = parser.parse("Sat Oct 11 17:13:46 UTC 2003")
print(d.isoformat())
print(parser.parse("2024-02-29T12:30:00+05:30").astimezone(tz.UTC).isoformat())
print(parser.parse("3rd of March 2021, 4pm", fuzzy=True).isoformat())
print(parser.isoparse("2024-W09-4").date())
