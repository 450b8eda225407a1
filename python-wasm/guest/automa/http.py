"""Outbound HTTP through the host, limited to the hosts an admin allowed.

    r = automa.http.get("https://api.example.com/items", params={"page": 2})
    r.raise_for_status()
    items = r.json()
"""

import json as _json
import urllib.parse as _urlparse
from http import HTTPStatus as _HTTPStatus

from wit_world.imports import http as _host

from .errors import call


class HTTPError(OSError):
    """Raised by `Response.raise_for_status()` for 4xx and 5xx answers."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response


class Headers(dict):
    """A dict of headers whose lookups ignore case."""

    def __init__(self, pairs=()):
        super().__init__()
        self._names = {}
        for name, value in pairs:
            key = name.lower()
            if key in self._names:
                # Repeated headers are joined, as HTTP allows.
                dict.__setitem__(self, self._names[key], f"{self[self._names[key]]}, {value}")
            else:
                self._names[key] = name
                dict.__setitem__(self, name, value)

    def __getitem__(self, name):
        return dict.__getitem__(self, self._names[name.lower()])

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._names

    def get(self, name, default=None):
        return self[name] if name in self else default


class Response:
    """An HTTP response, shaped like `requests.Response`."""

    def __init__(self, status_code, headers, content, url, request_method="GET"):
        self.status_code = status_code
        self.headers = Headers(headers)
        self.content = content
        self.url = url
        self.request_method = request_method
        try:
            self.reason = _HTTPStatus(status_code).phrase
        except ValueError:
            self.reason = ""

    @property
    def ok(self):
        return self.status_code < 400

    @property
    def encoding(self):
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    @property
    def text(self):
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self, **kwargs):
        return _json.loads(self.text, **kwargs)

    def raise_for_status(self):
        if self.status_code >= 400:
            kind = "Client" if self.status_code < 500 else "Server"
            raise HTTPError(
                f"{self.status_code} {kind} Error: {self.reason} for url: {self.url}",
                response=self,
            )

    def iter_content(self, chunk_size=65536):
        for start in range(0, len(self.content), chunk_size or len(self.content) or 1):
            yield self.content[start:start + chunk_size]

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"<Response [{self.status_code}]>"


def _with_params(url, params):
    if not params:
        return url
    if isinstance(params, (str, bytes)):
        query = params.decode() if isinstance(params, bytes) else params
    else:
        items = params.items() if hasattr(params, "items") else params
        query = _urlparse.urlencode([(k, v) for k, v in items if v is not None], doseq=True)
    parts = _urlparse.urlsplit(url)
    joined = f"{parts.query}&{query}" if parts.query else query
    return _urlparse.urlunsplit(parts._replace(query=joined))


def _encode_body(data, json, headers):
    if json is not None:
        headers.setdefault("Content-Type", "application/json")
        return _json.dumps(json).encode("utf-8")
    if data is None:
        return None
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "read"):
        content = data.read()
        return content.encode("utf-8") if isinstance(content, str) else bytes(content)
    headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    items = data.items() if hasattr(data, "items") else data
    return _urlparse.urlencode(list(items), doseq=True).encode("ascii")


def request(method, url, *, params=None, headers=None, data=None, json=None, timeout=None,
            allow_redirects=True, auth=None):
    """Send a request and return a `Response`. `timeout` is in seconds."""
    method = str(method).upper()
    url = _with_params(str(url), params)
    merged = {str(k): str(v) for k, v in (headers or {}).items()}
    if auth is not None:
        import base64

        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        merged.setdefault("Authorization", f"Basic {token}")
    body = _encode_body(data, json, merged)
    if isinstance(timeout, tuple):
        timeout = sum(t for t in timeout if t)
    timeout_ms = None if timeout is None else max(1, int(float(timeout) * 1000))
    req = _host.Request(
        method=method,
        url=url,
        headers=[_host.Header(k, v) for k, v in merged.items()],
        body=body,
        timeout_ms=timeout_ms,
        follow_redirects=bool(allow_redirects),
    )
    answer = call(f"HTTP {method} {url}", _host.send, req)
    return Response(
        answer.status,
        [(h.name, h.value) for h in answer.headers],
        bytes(answer.body),
        answer.url,
        method,
    )


def get(url, params=None, **kwargs):
    return request("GET", url, params=params, **kwargs)


def post(url, data=None, json=None, **kwargs):
    return request("POST", url, data=data, json=json, **kwargs)


def put(url, data=None, json=None, **kwargs):
    return request("PUT", url, data=data, json=json, **kwargs)


def patch(url, data=None, json=None, **kwargs):
    return request("PATCH", url, data=data, json=json, **kwargs)


def delete(url, **kwargs):
    return request("DELETE", url, **kwargs)


def head(url, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


def options(url, **kwargs):
    return request("OPTIONS", url, **kwargs)
