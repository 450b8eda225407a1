import urllib3
from urllib3.util import parse_url, Timeout, make_headers
u = parse_url("https://user:pw@例え.example:8443/p/a?q=1#f")
print(u.scheme, u.auth, u.host, u.port, u.path, u.query, u.fragment)
print(make_headers(keep_alive=True, accept_encoding=True, basic_auth="a:b"))
print(Timeout(connect=2.0, read=5.0).connect_timeout, urllib3.PoolManager(num_pools=2).connection_pool_kw)
