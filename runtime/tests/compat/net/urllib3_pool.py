import json
import urllib3
http = urllib3.PoolManager(ca_certs=CA_FILE)
r = http.request("GET", HTTP + "/pool", fields={"a": "b"})
print(r.status, json.loads(r.data)["path"])
r = http.request("POST", HTTPS + "/pool", body=b"raw", headers={"Content-Type": "text/plain"})
print(r.status, r.json())
print(len(http.pools) >= 2)
