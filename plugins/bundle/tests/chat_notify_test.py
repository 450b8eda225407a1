"""Tests of plugins/chat-notify/app.py on native Python, with stand-ins for the
bindings componentize-py generates (`wit_world`, `componentize_py_types`): the host
imports are recorded and answered by each test. `cargo test -p automa-example-plugins`
runs this file; the component itself is tested against the real host elsewhere.

    PYTHONPATH=plugins/chat-notify python3 plugins/bundle/tests/chat_notify_test.py
"""

import dataclasses
import enum
import json
import sys
import types
import unittest


def _install_fake_bindings():
    """Modules shaped like componentize-py's, for the names app.py uses."""

    def module(name, **attrs):
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        return mod

    class Err(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value

    module("componentize_py_types", Err=Err)

    def record(name, *fields):
        return dataclasses.make_dataclass(name, fields)

    error_types = {
        f"Error_{case}": record(f"Error_{case}", "value")
        for case in ("Denied", "InvalidInput", "Timeout", "TooLarge", "LimitReached", "NotFound", "Failed")
    }
    types_mod = module("wit_world.imports.types", **error_types)
    plugin_types = module(
        "wit_world.imports.plugin_types",
        FunctionSpec=record("FunctionSpec", "name", "description", "parameters_schema"),
        CapabilityRequest_Http=record("CapabilityRequest_Http", "value"),
        CapabilityRequest_Secret=record("CapabilityRequest_Secret", "value"),
        Manifest=record("Manifest", "name", "version", "description", "functions", "capabilities"),
    )
    http = module(
        "wit_world.imports.http",
        Header=record("Header", "name", "value"),
        Request=record("Request", "method", "url", "headers", "body", "timeout_ms", "follow_redirects"),
        Response=record("Response", "status", "headers", "body", "url"),
    )
    log = module("wit_world.imports.log", Level=enum.Enum("Level", "DEBUG INFO WARNING ERROR"))
    secrets = module("wit_world.imports.secrets")
    state = module("wit_world.imports.state")
    imports = module(
        "wit_world.imports",
        http=http,
        log=log,
        secrets=secrets,
        state=state,
        types=types_mod,
        plugin_types=plugin_types,
    )
    module("wit_world", WitWorld=type("WitWorld", (), {}), imports=imports)


_install_fake_bindings()

import app  # noqa: E402
from componentize_py_types import Err  # noqa: E402
from wit_world.imports import http, log, secrets, types as wit_types  # noqa: E402


class Host:
    """Answers the plugin's host calls and records them."""

    def __init__(self, status=200, body=b"ok", secret="https://chat.example.test/hooks/abc"):
        self.requests, self.logs, self.secret_reads = [], [], []
        self.status, self.body, self.secret = status, body, secret
        http.send = self.send
        log.write = lambda level, message, fields: self.logs.append((level, message, json.loads(fields)))
        secrets.get = self.get_secret

    def send(self, request):
        self.requests.append(request)
        return http.Response(self.status, [], self.body, request.url)

    def get_secret(self, name):
        self.secret_reads.append(name)
        if self.secret is None:
            raise Err(wit_types.Error_NotFound(f"no secret {name}"))
        return self.secret


def invoke(args, function="send"):
    return json.loads(app.WitWorld().invoke(function, json.dumps(args)))


class ChatNotifyTest(unittest.TestCase):
    def error_of(self, args, function="send"):
        with self.assertRaises(Err) as caught:
            app.WitWorld().invoke(function, args if isinstance(args, str) else json.dumps(args))
        return caught.exception.value

    def test_manifest(self):
        manifest = app.WitWorld().manifest()
        self.assertEqual(manifest.name, "chat-notify")
        self.assertEqual([f.name for f in manifest.functions], ["send"])
        schema = json.loads(manifest.functions[0].parameters_schema)
        self.assertEqual(schema["type"], "object")
        self.assertEqual(schema["required"], ["text"])
        self.assertEqual(
            [type(c).__name__ + ":" + c.value for c in manifest.capabilities],
            ["CapabilityRequest_Http:hooks.slack.com", "CapabilityRequest_Secret:CHAT_WEBHOOK_URL"],
        )

    def test_posts_json_to_the_given_webhook(self):
        host = Host()
        result = invoke({"text": "deploy done", "username": "automa", "webhook_url": "https://hooks.example.test/x/y"})
        self.assertEqual(result, {"status": 200})
        self.assertEqual(host.secret_reads, [])
        [request] = host.requests
        self.assertEqual((request.method, request.url), ("POST", "https://hooks.example.test/x/y"))
        self.assertIn(http.Header("content-type", "application/json"), request.headers)
        self.assertEqual(json.loads(request.body), {"text": "deploy done", "username": "automa"})
        self.assertFalse(request.follow_redirects)
        [(level, message, fields)] = host.logs
        self.assertEqual(level, log.Level.INFO)
        self.assertEqual(fields, {"host": "hooks.example.test", "status": 200, "chars": 11})
        self.assertNotIn("/x/y", message, "the webhook path is a secret")

    def test_reads_the_secret_when_no_url_is_given(self):
        host = Host(secret=" https://chat.example.test/hooks/abc\n")
        self.assertEqual(invoke({"text": "hi"}), {"status": 200})
        self.assertEqual(host.secret_reads, ["CHAT_WEBHOOK_URL"])
        self.assertEqual(host.requests[0].url, "https://chat.example.test/hooks/abc")
        self.assertEqual(json.loads(host.requests[0].body), {"text": "hi"})

    def test_a_missing_secret_reaches_the_caller(self):
        Host(secret=None)
        self.assertIsInstance(self.error_of({"text": "hi"}), wit_types.Error_NotFound)

    def test_non_2xx_is_failed_with_status_and_excerpt(self):
        host = Host(status=404, body=b"no_service\n  " + b"x" * 500)
        error = self.error_of({"text": "hi"})
        self.assertIsInstance(error, wit_types.Error_Failed)
        self.assertIn("404", error.value)
        self.assertIn("no_service x", error.value)
        self.assertLess(len(error.value), 300)
        self.assertEqual(host.logs[0][0], log.Level.WARNING)

    def test_invalid_arguments(self):
        Host()
        for args in [
            "not json",
            "[1]",
            {},
            {"text": ""},
            {"text": 5},
            {"text": "hi", "colour": "red"},
            {"text": "hi", "webhook_url": "ftp://x.test/"},
            {"text": "hi", "username": ""},
        ]:
            with self.subTest(args=args):
                self.assertIsInstance(self.error_of(args), wit_types.Error_InvalidInput)

    def test_unknown_function(self):
        self.assertIsInstance(self.error_of({"text": "hi"}, function="shout"), wit_types.Error_NotFound)


if __name__ == "__main__":
    unittest.main()
