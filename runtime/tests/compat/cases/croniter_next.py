from datetime import datetime
from croniter import croniter
it = croniter("*/15 9-17 * * MON-FRI", datetime(2025, 1, 3, 16, 50))
print([it.get_next(datetime).isoformat() for _ in range(4)])
print(croniter("0 0 L * *", datetime(2024, 2, 10)).get_next(datetime))
print(croniter.is_valid("61 * * * *"), croniter.match("0 12 * * *", datetime(2025, 5, 5, 12, 0)))
print(croniter("30 2 * * *", datetime(2025, 1, 1)).get_prev(datetime))
