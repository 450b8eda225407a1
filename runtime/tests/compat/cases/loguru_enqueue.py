from loguru import logger
lines = []
logger.remove()
logger.add(lines.append, format="{message}", enqueue=True)  # a writer thread
logger.info("queued")
logger.complete()
print([str(l).strip() for l in lines])
