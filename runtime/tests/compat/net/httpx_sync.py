import httpx
with httpx.Client(timeout=5) as client:
    r = client.get(HTTP + "/json", params={"x": 1})
    print(r.status_code, r.http_version, r.json())
    r = client.post(HTTP + "/form", data={"a": "1", "b": "two"})
    print(r.json()["body"], r.json()["content_type"])
    r = client.get(HTTP + "/redirect", follow_redirects=True)
    print(r.status_code, [h.status_code for h in r.history], r.json()["path"])
    print(client.get(HTTP + "/status/503").is_server_error)
with httpx.Client(verify=CA_FILE, timeout=5) as client:
    r = client.post(HTTPS + "/tls", json={"ok": True})
    print(r.status_code, r.json()["body"])
