"""A `requests`-compatible layer over `automa.http`.

Everyday scripts written for the `requests` library run unchanged: `get`, `post`,
`put`, `patch`, `delete`, `head`, `options`, `request`, `Session` and `Response`.
Requests go through the host and its allowlist; streaming, file uploads, proxies and
client certificates are not supported.
"""

from automa import http as _http

from . import exceptions
from .exceptions import ConnectionError, HTTPError, RequestException, Timeout, TooManyRedirects

Response = _http.Response

__version__ = "2.32.0-automa"


def _call(method, url, **kwargs):
    kwargs.pop("verify", None)  # TLS is always verified by the host
    kwargs.pop("stream", None)
    kwargs.pop("cert", None)
    kwargs.pop("proxies", None)
    if kwargs.pop("files", None):
        raise NotImplementedError("file uploads (files=) are not supported in the sandbox")
    try:
        response = _http.request(method, url, **kwargs)
    except TimeoutError as exc:
        raise Timeout(str(exc)) from None
    except _http.HTTPError as exc:
        raise HTTPError(str(exc), response=exc.response) from None
    except OSError as exc:
        if isinstance(exc, PermissionError):
            raise
        raise ConnectionError(str(exc)) from None
    _patch_raise(response)
    return response


def _patch_raise(response):
    """Make `raise_for_status` raise `requests.HTTPError`, as callers catch that."""
    original = response.raise_for_status

    def raise_for_status():
        try:
            original()
        except _http.HTTPError as exc:
            raise HTTPError(str(exc), response=response) from None

    response.raise_for_status = raise_for_status


def request(method, url, **kwargs):
    return _call(method, url, **kwargs)


def get(url, params=None, **kwargs):
    return _call("GET", url, params=params, **kwargs)


def post(url, data=None, json=None, **kwargs):
    return _call("POST", url, data=data, json=json, **kwargs)


def put(url, data=None, json=None, **kwargs):
    return _call("PUT", url, data=data, json=json, **kwargs)


def patch(url, data=None, json=None, **kwargs):
    return _call("PATCH", url, data=data, json=json, **kwargs)


def delete(url, **kwargs):
    return _call("DELETE", url, **kwargs)


def head(url, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    return _call("HEAD", url, **kwargs)


def options(url, **kwargs):
    return _call("OPTIONS", url, **kwargs)


class Session:
    """Default headers, auth and params applied to every request; usable as a context manager."""

    def __init__(self):
        self.headers = {}
        self.params = {}
        self.auth = None

    def request(self, method, url, **kwargs):
        headers = dict(self.headers)
        headers.update(kwargs.pop("headers", None) or {})
        params = dict(self.params)
        params.update(kwargs.pop("params", None) or {})
        kwargs.setdefault("auth", self.auth)
        return _call(method, url, headers=headers, params=params, **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, data=None, json=None, **kwargs):
        return self.request("POST", url, data=data, json=json, **kwargs)

    def put(self, url, data=None, json=None, **kwargs):
        return self.request("PUT", url, data=data, json=json, **kwargs)

    def patch(self, url, data=None, json=None, **kwargs):
        return self.request("PATCH", url, data=data, json=json, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)

    def head(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return self.request("HEAD", url, **kwargs)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def session():
    return Session()


__all__ = [
    "ConnectionError", "HTTPError", "RequestException", "Response", "Session", "Timeout",
    "TooManyRedirects", "delete", "exceptions", "get", "head", "options", "patch", "post",
    "put", "request", "session",
]
