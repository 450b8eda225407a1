import sys, time
import redis
r = redis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_timeout=10, decode_responses=True)
prefix = "compat:%s:" % sys.platform
r.delete(*[prefix + k for k in ("greeting", "n", "queue", "user", "seen")])
print(r.ping(), r.set(prefix + "greeting", "hello"), r.get(prefix + "greeting"))
print(r.incr(prefix + "n"), r.incrby(prefix + "n", 41), r.set(prefix + "greeting", "x", nx=True))
print(r.expire(prefix + "greeting", 60), 0 < r.ttl(prefix + "greeting") <= 60)
with r.pipeline() as pipe:
    pipe.rpush(prefix + "queue", "a", "b", "c").lpop(prefix + "queue").lrange(prefix + "queue", 0, -1)
    pipe.hset(prefix + "user", mapping={"name": "ada", "role": "admin"}).hgetall(prefix + "user")
    pipe.sadd(prefix + "seen", "x", "y", "x").scard(prefix + "seen")
    print(pipe.execute())
print(r.blpop(prefix + "queue", timeout=1)[1], r.llen(prefix + "queue"))
big = "z" * 300000
r.set(prefix + "greeting", big)
print(len(r.get(prefix + "greeting")))
p = r.pubsub()
p.subscribe(prefix + "events")
first = p.get_message(timeout=5)
print(first["type"], first["channel"] == prefix + "events", first["data"])
print(r.publish(prefix + "events", "job finished"))
message = None
deadline = time.monotonic() + 5
while message is None and time.monotonic() < deadline:
    message = p.get_message(timeout=1)
print(message["type"], message["channel"] == prefix + "events", message["data"], message["pattern"])
p.close()
try:
    r.lpush(prefix + "user", "x")
except redis.ResponseError as e:
    print("error:", str(e).split()[0])
r.delete(*[prefix + k for k in ("greeting", "n", "queue", "user", "seen")])
r.close()
