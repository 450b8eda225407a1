"""chat-notify: an example Automa host plugin in Python.

It posts a message to a Slack- or Mattermost-compatible incoming webhook through the
host's `http` import, which only reaches the hosts an admin granted the plugin. The
webhook URL comes from the call or, when the call names none, from the secret
`CHAT_WEBHOOK_URL` (read through the `secrets` import, so scripts never see it).

componentize-py builds this module into a component of the `plugin` world
(`wit/plugin.wit`): the class `WitWorld` below implements its two exports.
"""

import json
from urllib.parse import urlsplit

import wit_world
from componentize_py_types import Err
from wit_world.imports import http, log, secrets
from wit_world.imports.plugin_types import (
    CapabilityRequest_Http,
    CapabilityRequest_Secret,
    FunctionSpec,
    Manifest,
)
from wit_world.imports.types import Error_Failed, Error_InvalidInput, Error_NotFound

VERSION = "0.1.0"
SECRET = "CHAT_WEBHOOK_URL"
# The host a stock Slack webhook lives on. Mattermost, Rocket.Chat or a self-hosted
# Slack-compatible service is on the admin's own host: the admin grants that host
# instead (see the README's "Plugins" section).
DEFAULT_HOST = "hooks.slack.com"
TIMEOUT_MS = 10_000
EXCERPT_CHARS = 200

SEND_SCHEMA = {
    "type": "object",
    "properties": {
        "text": {
            "type": "string",
            "minLength": 1,
            "description": "The message (Slack/Mattermost markdown).",
        },
        "webhook_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": f"The incoming-webhook URL; default: the secret {SECRET}.",
        },
        "username": {
            "type": "string",
            "minLength": 1,
            "description": "The sender name to show, where the chat service allows it.",
        },
    },
    "required": ["text"],
    "additionalProperties": False,
}


class WitWorld(wit_world.WitWorld):
    def manifest(self) -> Manifest:
        return Manifest(
            name="chat-notify",
            version=VERSION,
            description=(
                "Post a message to a Slack- or Mattermost-compatible incoming webhook; "
                f"the webhook URL is an argument or the secret {SECRET}."
            ),
            functions=[
                FunctionSpec(
                    name="send",
                    description=(
                        'Send {"text", "username"} as JSON to the webhook. Returns '
                        '{"status": <HTTP status>}; an answer other than 2xx is an error.'
                    ),
                    parameters_schema=json.dumps(SEND_SCHEMA),
                )
            ],
            capabilities=[
                CapabilityRequest_Http(DEFAULT_HOST),
                CapabilityRequest_Secret(SECRET),
            ],
        )

    def invoke(self, function: str, args_json: str) -> str:
        if function != "send":
            raise Err(Error_NotFound(f"chat-notify has no function {function!r}"))
        return json.dumps(send(parse_args(args_json)))


def parse_args(args_json):
    """The arguments of `send`, checked again: a plugin does not rely on the host alone."""
    try:
        args = json.loads(args_json)
    except ValueError as exc:
        raise Err(Error_InvalidInput(f"arguments are not valid JSON: {exc}")) from None
    if not isinstance(args, dict):
        raise Err(Error_InvalidInput("arguments must be a JSON object"))
    unknown = sorted(set(args) - set(SEND_SCHEMA["properties"]))
    if unknown:
        raise Err(Error_InvalidInput(f"unknown arguments: {', '.join(unknown)}"))
    text = args.get("text")
    if not isinstance(text, str) or not text:
        raise Err(Error_InvalidInput("text must be a non-empty string"))
    for name in ("webhook_url", "username"):
        value = args.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise Err(Error_InvalidInput(f"{name} must be a non-empty string"))
    url = args.get("webhook_url")
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise Err(Error_InvalidInput("webhook_url must be an http or https URL"))
    return args


def send(args):
    url = args.get("webhook_url")
    if url is None:
        # `not-found` or `denied` from the host reaches the caller unchanged.
        url = secrets.get(SECRET).strip()
    payload = {"text": args["text"]}
    if args.get("username") is not None:
        payload["username"] = args["username"]
    request = http.Request(
        method="POST",
        url=url,
        headers=[
            http.Header("content-type", "application/json"),
            http.Header("user-agent", f"automa-chat-notify/{VERSION}"),
        ],
        body=json.dumps(payload).encode("utf-8"),
        timeout_ms=TIMEOUT_MS,
        follow_redirects=False,
    )
    response = http.send(request)
    # Only the host: a webhook URL's path is itself a secret.
    host = urlsplit(url).hostname or "?"
    ok = 200 <= response.status < 300
    log.write(
        log.Level.INFO if ok else log.Level.WARNING,
        f"chat-notify: webhook on {host} answered {response.status}",
        json.dumps({"host": host, "status": response.status, "chars": len(args["text"])}),
    )
    if not ok:
        raise Err(Error_Failed(f"the webhook on {host} answered {response.status}: {excerpt(response.body)}"))
    return {"status": response.status}


def excerpt(body):
    """The start of a response body on one line, for error messages."""
    text = " ".join(bytes(body).decode("utf-8", errors="replace").split())
    if len(text) > EXCERPT_CHARS:
        text = text[:EXCERPT_CHARS] + "..."
    return text or "(empty body)"
