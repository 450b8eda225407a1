import asyncio, ssl
import httpx

async def main():
    tls = ssl.create_default_context(cafile=CA_FILE)
    async with httpx.AsyncClient(verify=tls, timeout=5) as client:
        r = await client.get(HTTPS + "/tls")
        print(r.status_code, r.json()["path"])

asyncio.run(main())
