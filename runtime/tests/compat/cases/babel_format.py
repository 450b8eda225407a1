from datetime import date, datetime, timezone
from decimal import Decimal
from babel.numbers import format_currency, format_decimal, parse_decimal
from babel.dates import format_date, format_datetime, format_timedelta
from babel import Locale
print(format_currency(Decimal("1234.5"), "EUR", locale="de_DE"), format_currency(1234.5, "USD", locale="en_US"))
print(format_decimal(1234567.891, locale="fr_FR"), parse_decimal("1.234,5", locale="de"))
d = date(2025, 7, 14)
print(format_date(d, format="full", locale="fr"), format_date(d, locale="ja"))
print(format_datetime(datetime(2025, 7, 14, 18, 5, tzinfo=timezone.utc), "long", tzinfo="Europe/Madrid", locale="es"))
print(format_timedelta(3 * 86400, locale="de"), Locale.parse("pt_BR").get_display_name("en"))
