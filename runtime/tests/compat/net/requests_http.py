import requests
r = requests.get(HTTP + "/json", params={"q": "a b"}, timeout=5)
print(r.status_code, r.headers["Content-Type"], r.json())
r = requests.post(HTTP + "/items", json={"name": "ada", "n": [1, 2]}, timeout=5)
print(r.json()["method"], r.json()["body"], r.json()["content_type"])
with requests.Session() as s:
    r = s.get(HTTP + "/redirect", timeout=5)
    print([h.status_code for h in r.history], r.url.split("/", 3)[3], r.json()["path"])
    r = s.put(HTTP + "/status/404", data={"k": "v"}, timeout=5)
    print(r.status_code, r.ok, r.json()["body"])
    try:
        r.raise_for_status()
    except requests.HTTPError as e:
        print("HTTPError", e.response.status_code)
