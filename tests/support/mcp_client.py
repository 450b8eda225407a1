"""MCP client for tests/mcp: drives Automa's /mcp with the official Python SDK and
prints one JSON object describing what it saw.

usage: mcp_client.py URL TOKEN list
       mcp_client.py URL TOKEN flow SCRIPT_ID TOOL_NAME BENCH_CALLS
       mcp_client.py URL TOKEN notify OTHER_TOKEN
       mcp_client.py URL TOKEN listen

notify: a legacy (initialize, session) client lists tools while this same script
creates, edits and deletes a tool-exposed script through the REST API, and records the
notifications/tools/list_changed it receives and the tool list after each; a change
made by OTHER_TOKEN's user (whose scripts this user cannot see) must not notify.
listen: the same for a 2026-07-28 client over subscriptions/listen.
"""

import asyncio
import json
import statistics
import sys
import time

import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result):
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


# How long to wait for a notification that must come, and for one that must not.
EXPECT_S = 15
QUIET_S = 1.5


def rest(url, token):
    """An httpx client for the REST API of the server at the MCP URL."""
    base = url.rsplit("/mcp", 1)[0]
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"})


def tool_names(client):
    """The current tool names, or with `described` a name -> description map."""

    async def names(described=False):
        tools = (await client.list_tools()).tools
        return {t.name: t.description for t in tools} if described else [t.name for t in tools]

    return names


async def script_changes(url, token, other_token, wait_for, names):
    """Creates, edits and deletes a tool through the API; after each step records
    whether a list_changed arrived (`wait_for(timeout)`) and the tool names then."""
    steps = {}
    async with rest(url, token) as api, rest(url, other_token) as other:
        source = "def main(x: int = 1):\n    return x\n"
        r = await api.post("/api/v1/scripts", json={"name": "fresh_tool", "source": source, "expose_as_tool": True})
        r.raise_for_status()
        script_id = r.json()["id"]
        steps["create"] = {"notified": await wait_for(EXPECT_S), "tools": await names()}
        r = await api.patch(f"/api/v1/scripts/{script_id}", json={"description": "Now described."})
        r.raise_for_status()
        steps["describe"] = {"notified": await wait_for(EXPECT_S), "tools": await names(True)}
        # Another user's tool is not in this list: no notification for it.
        r = await other.post("/api/v1/scripts", json={"name": "not_yours", "source": source, "expose_as_tool": True})
        r.raise_for_status()
        steps["other_user"] = {"notified": await wait_for(QUIET_S)}
        # Neither is a script that is not a tool.
        r = await api.post("/api/v1/scripts", json={"name": "plain", "source": source})
        r.raise_for_status()
        steps["not_a_tool"] = {"notified": await wait_for(QUIET_S)}
        r = await api.patch(f"/api/v1/scripts/{script_id}", json={"expose_as_tool": False})
        r.raise_for_status()
        steps["unexpose"] = {"notified": await wait_for(EXPECT_S), "tools": await names()}
        r = await api.patch(f"/api/v1/scripts/{script_id}", json={"expose_as_tool": True})
        r.raise_for_status()
        steps["expose"] = {"notified": await wait_for(EXPECT_S), "tools": await names()}
        r = await api.delete(f"/api/v1/scripts/{script_id}")
        r.raise_for_status()
        steps["delete"] = {"notified": await wait_for(EXPECT_S), "tools": await names()}
    return steps


async def timed(calls, call):
    """Median, p99 and min in ms of `calls` sequential calls."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        r = await call()
        times.append((time.perf_counter() - start) * 1000)
        assert not r.is_error, text_of(r)
    times.sort()
    return {
        "calls": calls,
        "median": round(statistics.median(times), 2),
        "p99": round(times[max(0, -(-calls * 99 // 100) - 1)], 2),
        "min": round(times[0], 2),
    }


async def notify_main(url, token, other_token):
    """Legacy client: the server's notifications reach the message handler."""
    changed = asyncio.Queue()

    async def on_message(message):
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.put_nowait(True)

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    out = {}
    async with http, Client(
        streamable_http_client(url, http_client=http), cache=None, mode="legacy", message_handler=on_message
    ) as client:
        out["protocol"] = client.session.protocol_version
        caps = client.session.server_capabilities
        out["list_changed_advertised"] = bool(caps and caps.tools and caps.tools.list_changed)
        out["before"] = [t.name for t in (await client.list_tools()).tools]

        async def wait_for(timeout):
            try:
                await asyncio.wait_for(changed.get(), timeout)
            except TimeoutError:
                return False
            while not changed.empty():
                changed.get_nowait()
            return True

        out["steps"] = await script_changes(url, token, other_token, wait_for, tool_names(client))
    return out


async def listen_main(url, token, other_token):
    """2026-07-28 client: no session; the change arrives on a subscriptions/listen stream."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    out = {}
    async with http, Client(streamable_http_client(url, http_client=http), cache=None) as client:
        out["protocol"] = client.session.protocol_version
        out["before"] = [t.name for t in (await client.list_tools()).tools]
        async with client.listen(tools_list_changed=True) as sub:
            events = sub.__aiter__()

            async def wait_for(timeout):
                try:
                    await asyncio.wait_for(events.__anext__(), timeout)
                    return True
                except TimeoutError:
                    return False

            out["steps"] = await script_changes(url, token, other_token, wait_for, tool_names(client))
    return out


async def main():
    url, token, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "notify":
        print(json.dumps(await notify_main(url, token, sys.argv[4])))
        return
    if mode == "listen":
        print(json.dumps(await listen_main(url, token, sys.argv[4])))
        return
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    out = {}
    # No response cache: the tool list must be asked for each time.
    async with http, Client(streamable_http_client(url, http_client=http), cache=None) as client:
        tools = await client.list_tools()
        out["tools"] = [dump(t) for t in tools.tools]
        if mode == "flow":
            script_id, tool, bench_calls = sys.argv[4], sys.argv[5], int(sys.argv[6])
            r = await client.call_tool(tool, {"name": "Ada", "times": 2})
            out["script_call"] = {"is_error": bool(r.is_error), "text": text_of(r)}
            r = await client.call_tool(tool, {"times": "many"})
            out["bad_args"] = {"is_error": bool(r.is_error), "text": text_of(r)}
            r = await client.call_tool("run_script", {"id": script_id, "args": {"name": "Bo"}})
            job = json.loads(text_of(r)[0])
            out["run_script"] = {"is_error": bool(r.is_error), "job": job}
            r = await client.call_tool("get_job", {"id": job["id"]})
            out["get_job"] = {"is_error": bool(r.is_error), "job": json.loads(text_of(r)[0])}
            r = await client.call_tool("list_scripts", {})
            out["list_scripts"] = json.loads(text_of(r)[0])
            r = await client.call_tool("list_agents", {})
            out["list_agents"] = json.loads(text_of(r)[0])
            r = await client.read_resource(f"automa://scripts/{script_id}")
            out["source"] = [c.text for c in r.contents]
            r = await client.read_resource(f"automa://jobs/{job['id']}/log")
            out["job_log"] = [c.text for c in r.contents]
            templates = await client.list_resource_templates()
            out["templates"] = [t.uri_template for t in templates.resource_templates]
            # Latency of a tool call that runs a trivial script, end to end, and of a
            # built-in that runs no job: their gap is the job; the built-in's time is
            # mostly this client's own overhead (compare examples/bench_mcp's raw client).
            if bench_calls:
                out["bench_ms"] = {
                    "script_tool": await timed(bench_calls, lambda: client.call_tool(tool, {"name": "x", "times": 1})),
                    "list_agents": await timed(bench_calls, lambda: client.call_tool("list_agents", {})),
                }
        elif mode == "call":
            name, args = sys.argv[4], json.loads(sys.argv[5])
            try:
                r = await client.call_tool(name, args)
                out["call"] = {"is_error": bool(r.is_error), "text": text_of(r)}
            except Exception as e:  # a protocol error (unknown tool) raises
                out["call"] = {"exception": str(e)}
    print(json.dumps(out))


asyncio.run(main())
