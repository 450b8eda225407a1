import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry
req = requests.Request("POST", "https://api.example/v1/items", params={"q": "a b", "n": 2},
                       json={"x": [1, 2]}, headers={"X-Token": "t"}, auth=("u", "p")).prepare()
print(req.method, req.url, req.headers["Content-Type"], req.headers["Authorization"], req.body)
s = requests.Session()
s.mount("https://", HTTPAdapter(max_retries=Retry(total=3, backoff_factor=0.5, status_forcelist=[503])))
print(s.get_adapter("https://x.example").max_retries.total, requests.utils.quote("ä/b"))
print(requests.codes.teapot, requests.utils.parse_header_links('<https://a.example/?p=2>; rel="next"'))
