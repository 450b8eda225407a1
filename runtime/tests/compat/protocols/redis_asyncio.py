import asyncio, sys
import redis.asyncio as aredis
prefix = "compat:async:%s:" % sys.platform
async def main():
    r = aredis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_timeout=10, decode_responses=True)
    await r.delete(prefix + "jobs", prefix + "count")
    print(await r.ping(), await r.set(prefix + "count", 1), await r.incrby(prefix + "count", 9))
    async with r.pipeline(transaction=True) as pipe:
        results = await pipe.rpush(prefix + "jobs", "a", "b").lrange(prefix + "jobs", 0, -1).get(prefix + "count").execute()
    print(results)
    print(await asyncio.gather(r.get(prefix + "count"), r.llen(prefix + "jobs"), r.exists(prefix + "missing")))
    pubsub = r.pubsub()
    await pubsub.subscribe(prefix + "events")
    first = await pubsub.get_message(timeout=5)
    print(first["type"], first["data"])
    await r.publish(prefix + "events", "done")
    message = None
    for _ in range(50):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message:
            break
    print(message["type"], message["data"])
    await pubsub.aclose()
    await r.delete(prefix + "jobs", prefix + "count")
    await r.aclose()
asyncio.run(main())
