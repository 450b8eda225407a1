import requests
r = requests.get(HTTPS + "/secure", verify=CA_FILE, timeout=5)
print(r.status_code, r.json()["path"])
r = requests.post(HTTPS + "/upload", files={"f": ("a.txt", b"hello")}, verify=CA_FILE, timeout=5)
body = r.json()
print(body["content_type"].split(";")[0], "hello" in body["body"], 'filename="a.txt"' in body["body"])
with requests.Session() as s:
    print([s.get(HTTPS + f"/keep/{i}", verify=CA_FILE, timeout=5).json()["path"] for i in range(3)])
