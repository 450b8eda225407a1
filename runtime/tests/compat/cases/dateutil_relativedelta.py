from datetime import date, datetime
from dateutil.relativedelta import relativedelta, FR
print(date(2024, 1, 31) + relativedelta(months=+1))
print(date(2024, 3, 15) + relativedelta(day=31, weekday=FR(-1)))
print(relativedelta(datetime(2026, 12, 1), datetime(1990, 5, 17, 8, 30)))
