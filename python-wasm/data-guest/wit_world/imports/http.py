"""`automa:host/http`."""

from dataclasses import dataclass
from typing import List, Optional

from automa_door import call


@dataclass
class Header:
    name: str
    value: str


@dataclass
class Request:
    method: str
    url: str
    headers: List[Header]
    body: Optional[bytes]
    timeout_ms: Optional[int]
    follow_redirects: bool


@dataclass
class Response:
    status: int
    headers: List[Header]
    body: bytes
    url: str


def send(req):
    value = call(
        "http.send",
        method=req.method,
        url=req.url,
        headers=[{"name": h.name, "value": h.value} for h in req.headers],
        body=req.body,
        timeout_ms=req.timeout_ms,
        follow_redirects=req.follow_redirects,
    )
    headers = [Header(name, value) for name, value in value["headers"]]
    return Response(value["status"], headers, value["body"], value["url"])
