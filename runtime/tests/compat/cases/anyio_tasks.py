import anyio

async def worker(name, delay, results):
    await anyio.sleep(delay)
    results.append(name)

async def main():
    results = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker, "slow", 0.05, results)
        tg.start_soon(worker, "fast", 0.01, results)
    send, receive = anyio.create_memory_object_stream(5)
    async with send:
        for i in range(3):
            await send.send(i * i)
    async with receive:
        got = [x async for x in receive]
    with anyio.move_on_after(0.02) as scope:
        await anyio.sleep(1)
    return results, got, scope.cancelled_caught

print(anyio.run(main))
