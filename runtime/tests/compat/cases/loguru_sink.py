import sys
from loguru import logger
lines = []
logger.remove()
logger.add(lines.append, format="{level} | {name}:{function} | {message} | {extra}", level="INFO")
def work():
    logger.debug("hidden")
    logger.info("started {}", "job")
    logger.bind(job=7).warning("slow")
    try:
        1 / 0
    except ZeroDivisionError:
        logger.exception("failed")
work()
for line in lines:
    print(str(line).splitlines()[0])
print(len(lines), "ZeroDivisionError" in str(lines[-1]))
