from concurrent.futures import ThreadPoolExecutor, as_completed
import requests
urls = [HTTP + f"/page/{i}" for i in range(6)]
with requests.Session() as s, ThreadPoolExecutor(max_workers=4) as pool:
    print([r.json()["path"] for r in pool.map(lambda u: s.get(u, timeout=5), urls)])
    futures = {pool.submit(s.get, u, timeout=5): u for u in urls[:3]}
    print(sorted(f.result().status_code for f in as_completed(futures)))
