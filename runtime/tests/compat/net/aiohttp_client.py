import asyncio, ssl
import aiohttp

async def main():
    tls = ssl.create_default_context(cafile=CA_FILE)
    async with aiohttp.ClientSession() as session:
        async with session.get(HTTP + "/json", params={"q": "x y"}) as r:
            print(r.status, r.content_type, await r.json())
        async with session.post(HTTP + "/items", json={"n": 1}) as r:
            body = await r.json()
            print(body["method"], body["body"])
        paths = await asyncio.gather(*[
            fetch(session, HTTPS + f"/par/{i}", tls) for i in range(3)])
        print(paths)
        async with session.get(HTTP + "/redirect") as r:
            print(r.status, len(r.history), (await r.json())["path"])

async def fetch(session, url, tls):
    async with session.get(url, ssl=tls) as r:
        return (await r.json())["path"]

asyncio.run(main())
