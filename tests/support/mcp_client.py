"""MCP client for tests/mcp: drives Automa's /mcp with the official Python SDK and
prints one JSON object describing what it saw.

usage: mcp_client.py URL TOKEN list
       mcp_client.py URL TOKEN flow SCRIPT_ID TOOL_NAME BENCH_CALLS
"""

import asyncio
import json
import statistics
import sys
import time

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result):
    return [c.text for c in result.content if getattr(c, "type", None) == "text"]


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main():
    url, token, mode = sys.argv[1], sys.argv[2], sys.argv[3]
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
            # Latency of a tool call that runs a trivial script, end to end.
            times = []
            for _ in range(bench_calls):
                start = time.perf_counter()
                r = await client.call_tool(tool, {"name": "x", "times": 1})
                times.append((time.perf_counter() - start) * 1000)
                assert not r.is_error, text_of(r)
            if times:
                times.sort()
                out["bench_ms"] = {
                    "calls": len(times),
                    "median": statistics.median(times),
                    "p90": times[int(len(times) * 0.9) - 1] if len(times) >= 10 else times[-1],
                    "min": times[0],
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
