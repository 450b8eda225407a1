from tenacity import retry, stop_after_attempt, wait_fixed, retry_if_exception_type, RetryError
calls = []

@retry(stop=stop_after_attempt(4), wait=wait_fixed(0.01), retry=retry_if_exception_type(ConnectionError))
def flaky():
    calls.append(len(calls))
    if len(calls) < 3:
        raise ConnectionError(f"try {len(calls)}")
    return "ok after " + str(len(calls))

print(flaky(), flaky.statistics["attempt_number"])

@retry(stop=stop_after_attempt(2), wait=wait_fixed(0))
def always():
    raise ValueError("nope")

try:
    always()
except RetryError as e:
    print("gave up:", e.last_attempt.attempt_number, repr(e.last_attempt.exception()))
