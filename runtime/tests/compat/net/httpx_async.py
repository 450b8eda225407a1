import asyncio
import httpx

async def main():
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.get(HTTP + "/async", params={"a": 1})
        print(r.status_code, r.json())
        rs = await asyncio.gather(*[client.post(HTTP + f"/p/{i}", content=str(i)) for i in range(3)])
        print([(x.json()["path"], x.json()["body"]) for x in rs])
        r = await client.get(HTTP + "/redirect", follow_redirects=True)
        print(r.status_code, r.json()["path"])

asyncio.run(main())
