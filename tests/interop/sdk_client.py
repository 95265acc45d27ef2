#!/usr/bin/env python3
"""Interop check: the official MCP Python SDK drives the mcp-acp binary over stdio.

Started by tests/interop.rs (run it through tests/interop/run.sh), which starts the fake gateway,
writes clusters.yaml and passes, in the environment:

  MCP_ACP_BIN               the binary under test (the release build in CI)
  ACP_CLUSTER_CONFIG        clusters.yaml: cluster `dev` -> the fake gateway, default project team-a
  MCP_ACP_INTEROP_RUNNING   ID of a Running session the gateway holds in team-a
  MCP_ACP_INTEROP_DONE      ID of a Completed session the gateway holds in team-a
  MCP_ACP_INTEROP_TOKEN     the token in clusters.yaml: it must show in no result and no log message

Three connections, each a fresh server process started by the SDK's stdio client:
  1. legacy: ClientSession.initialize() (the SDK's newest handshake revision), ping, tools/list,
     every read-only tool, create + read back + delete, progress, logging/setLevel, errors;
  2. 2026-07-28 stateless: ClientSession.discover(), tools/list, read-only tools, no log messages
     without a per-request log level, ping removed;
  3. mcp.Client(mode="auto", log_level="info"): the SDK's own negotiation picks 2026-07-28, and
     log messages arrive once the request asks for them.

Every structured result is validated against its tool's outputSchema twice: by the SDK inside
call_tool (it raises on a mismatch) and explicitly with jsonschema. Prints one line per check and
exits 0 only if every check passed.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from importlib.metadata import version as dist_version
from typing import Any

import anyio
import jsonschema
import mcp
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp_types.version import LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

TOOLS = [
    "acp_list_sessions",
    "acp_get_session",
    "acp_get_session_metrics",
    "acp_get_session_logs",
    "acp_get_session_transcript",
    "acp_send_message",
    "acp_wait_session",
    "acp_create_session",
    "acp_create_session_from_template",
    "acp_clone_session",
    "acp_update_session",
    "acp_delete_session",
    "acp_bulk_delete_sessions",
    "acp_stop_session",
    "acp_restart_session",
    "acp_bulk_stop_sessions",
    "acp_bulk_restart_sessions",
    "acp_label_resource",
    "acp_unlabel_resource",
    "acp_list_sessions_by_label",
    "acp_bulk_label_resources",
    "acp_bulk_unlabel_resources",
    "acp_bulk_delete_sessions_by_label",
    "acp_bulk_stop_sessions_by_label",
    "acp_bulk_restart_sessions_by_label",
    "acp_list_projects",
    "acp_list_clusters",
    "acp_whoami",
    "acp_switch_cluster",
    "acp_login",
]
READ_ONLY = {
    "acp_list_sessions",
    "acp_get_session",
    "acp_get_session_metrics",
    "acp_get_session_logs",
    "acp_get_session_transcript",
    "acp_wait_session",
    "acp_list_sessions_by_label",
    "acp_list_projects",
    "acp_list_clusters",
    "acp_whoami",
    "acp_switch_cluster",
    "acp_login",
}
DESTRUCTIVE = {"acp_delete_session", "acp_bulk_delete_sessions", "acp_bulk_delete_sessions_by_label"}
# The revisions mcp-acp speaks over `initialize` (README, "Protocol").
SERVER_HANDSHAKE_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}
STATELESS = "2026-07-28"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
# Upper bound for one connection's whole conversation; a hang fails instead of blocking CI.
PHASE_SECONDS = 60
READ_TIMEOUT = 30.0


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        sys.exit(f"sdk_client.py: {name} must be set (run through tests/interop/run.sh)")
    return value


BIN = env("MCP_ACP_BIN")
CONFIG = env("ACP_CLUSTER_CONFIG")
RUNNING = env("MCP_ACP_INTEROP_RUNNING")
DONE = env("MCP_ACP_INTEROP_DONE")
TOKEN = env("MCP_ACP_INTEROP_TOKEN")

# Only these reach the server: the SDK passes PATH/HOME/... plus `env`, nothing else.
SERVER = StdioServerParameters(command=BIN, env={"ACP_CLUSTER_CONFIG": CONFIG, "RUST_LOG": "debug"})


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: Any = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  PASS {name}", flush=True)
        else:
            self.failed.append(name)
            print(f"  FAIL {name}: {detail}", flush=True)
        return ok


checks = Checks()
check = checks.check
# The legacy connection's tools/list, to compare the 2026-07-28 one with.
legacy_tools: dict[str, dict[str, Any]] = {}


def wire(model: Any) -> Any:
    """A result model as it looked on the wire (aliases, no unset fields)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def no_token(what: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    check(f"{what}: token not shown", TOKEN not in text, "the clusters.yaml token appears in it")


def check_tool_listing(era: str, listing: Any) -> dict[str, dict[str, Any]]:
    """Every tool, each complete; returns name -> tool as on the wire."""
    tools = [wire(t) for t in listing.tools]
    names = [t["name"] for t in tools]
    check(f"{era} tools/list: the {len(TOOLS)} tools in order", names == TOOLS, names)
    for t in tools:
        name = t["name"]
        problems = []
        for key in ("title", "description"):
            if not (isinstance(t.get(key), str) and t[key].strip()):
                problems.append(f"no {key}")
        schema = t.get("inputSchema") or {}
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
            problems.append(f"inputSchema is not a closed object: {schema}")
        output = t.get("outputSchema")
        if not (isinstance(output, dict) and output.get("type") == "object"):
            problems.append(f"outputSchema missing or not an object: {output}")
        for label, s in (("inputSchema", schema), ("outputSchema", output)):
            try:
                jsonschema.validators.validator_for(s).check_schema(s)
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                problems.append(f"{label} is not a valid JSON Schema: {e}")
        ann = t.get("annotations") or {}
        for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
            if not isinstance(ann.get(hint), bool):
                problems.append(f"annotations.{hint} missing")
        if ann.get("readOnlyHint") is not (name in READ_ONLY):
            problems.append(f"readOnlyHint={ann.get('readOnlyHint')}")
        if ann.get("destructiveHint") is not (name in DESTRUCTIVE):
            problems.append(f"destructiveHint={ann.get('destructiveHint')}")
        check(f"{era} tools/list: {name} has title, description, closed inputSchema, outputSchema, annotations",
              not problems, "; ".join(problems))
    return {t["name"]: t for t in tools}


async def call(session: ClientSession, tools: dict[str, dict[str, Any]], era: str, name: str,
               arguments: dict[str, Any], expect_error: bool = False, **kwargs: Any) -> dict[str, Any]:
    """tools/call through the SDK, which validates structuredContent against the tool's
    outputSchema itself (and raises on a mismatch), then the same validation again with
    jsonschema. One check per call; returns structuredContent ({} for an error result)."""
    label = f"{era} {name} {json.dumps(arguments, sort_keys=True)}"
    result = await session.call_tool(name, arguments, **kwargs)
    raw = wire(result)
    text = "\n".join(c.text for c in result.content if getattr(c, "type", None) == "text")
    problems = []
    if bool(result.is_error) != expect_error:
        problems.append(f"isError={result.is_error}, expected {expect_error}: {text[:500]}")
    if not text.strip():
        problems.append("no text content")
    if TOKEN in json.dumps(raw):
        problems.append("the clusters.yaml token appears in the result")
    data = result.structured_content
    if not expect_error and not result.is_error:
        if not isinstance(data, dict):
            problems.append("no structuredContent")
        else:
            try:
                jsonschema.validate(data, tools[name]["outputSchema"])
            except jsonschema.ValidationError as e:
                problems.append(f"structuredContent does not match outputSchema: {e.message}")
    what = "isError result with text" if expect_error else "structuredContent valid against outputSchema"
    check(f"{label}: {what}", not problems, "; ".join(problems) or raw)
    return data if isinstance(data, dict) and not problems else {}


async def legacy() -> None:
    print(f"[legacy] ClientSession.initialize() over stdio (mcp {dist_version('mcp')})", flush=True)
    logs: list[Any] = []

    async def on_log(params: Any) -> None:
        logs.append(wire(params))

    async with stdio_client(SERVER) as (read, write), ClientSession(
        read, write, read_timeout_seconds=READ_TIMEOUT, logging_callback=on_log
    ) as s:
        init = await s.initialize()
        check("initialize: protocol version is the SDK's newest handshake revision",
              init.protocol_version == LATEST_HANDSHAKE_VERSION, init.protocol_version)
        check("initialize: a revision mcp-acp speaks", init.protocol_version in SERVER_HANDSHAKE_VERSIONS,
              init.protocol_version)
        check("initialize: serverInfo names mcp-acp",
              init.server_info.name == "mcp-acp" and bool(init.server_info.version), wire(init.server_info))
        caps = init.capabilities
        check("initialize: tools capability, listChanged false",
              caps.tools is not None and not caps.tools.list_changed, wire(caps))
        check("initialize: logging capability", caps.logging is not None, wire(caps))
        check("initialize: instructions", bool(init.instructions and init.instructions.strip()))

        await s.send_ping()
        check("ping answered", True)

        tools = check_tool_listing("legacy", await s.list_tools())
        legacy_tools.update(tools)

        listing = await call(s, tools, "legacy", "acp_list_sessions", {})
        ids = [x["id"] for x in listing.get("sessions", [])]
        check("acp_list_sessions: both fake-gateway sessions listed", {RUNNING, DONE} <= set(ids), ids)
        check("acp_list_sessions: cluster dev, project team-a",
              (listing.get("cluster"), listing.get("project")) == ("dev", "team-a"), listing)
        running = await call(s, tools, "legacy", "acp_list_sessions",
                             {"status": "running", "sort_by": "name", "limit": 5})
        ids = [x["id"] for x in running.get("sessions", [])]
        check("acp_list_sessions status=running: only the running session", ids == [RUNNING], ids)

        shown = await call(s, tools, "legacy", "acp_get_session", {"session": DONE})
        got = shown.get("session", {})
        check("acp_get_session: the asked-for session, completed",
              (got.get("id"), got.get("status")) == (DONE, "completed"), shown)

        clusters = await call(s, tools, "legacy", "acp_list_clusters", {})
        names = sorted(c["name"] for c in clusters.get("clusters", []))
        check("acp_list_clusters: dev and prod, dev active",
              names == ["dev", "prod"] and clusters.get("active") == "dev", clusters)

        me = await call(s, tools, "legacy", "acp_whoami", {})
        check("acp_whoami: cluster dev, project team-a, token from the config file",
              (me.get("cluster"), me.get("project"), me.get("token_source")) == ("dev", "team-a", "config"), me)

        prompt = "Interop check: reply with the word OK."
        dry = await call(s, tools, "legacy", "acp_create_session",
                         {"initial_prompt": prompt, "model": "claude-sonnet-4-6", "dry_run": True})
        check("acp_create_session dry_run: shows the POST it would send",
              dry.get("dry_run") is True and dry.get("request", {}).get("method") == "POST", dry)

        created = await call(s, tools, "legacy", "acp_create_session",
                             {"initial_prompt": prompt, "model": "claude-sonnet-4-6"})
        new_id = created.get("session", "")
        check("acp_create_session: created, prompt stored and read back",
              bool(new_id) and created.get("prompt_stored") is True
              and created.get("stored", {}).get("task") == prompt, created)
        if new_id:
            back = await call(s, tools, "legacy", "acp_get_session", {"session": new_id})
            check("acp_get_session of the created session: its task",
                  back.get("session", {}).get("task") == prompt, back)
            gone = await call(s, tools, "legacy", "acp_delete_session", {"session": new_id})
            check("acp_delete_session of the created session: deleted",
                  (gone.get("session"), gone.get("outcome")) == (new_id, "deleted"), gone)
            await call(s, tools, "legacy", "acp_get_session", {"session": new_id}, expect_error=True)
            after = await call(s, tools, "legacy", "acp_list_sessions", {})
            ids = [x["id"] for x in after.get("sessions", [])]
            check("acp_list_sessions after delete: created session gone, the others kept",
                  new_id not in ids and {RUNNING, DONE} <= set(ids), ids)

        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, total, message))

        bulk = await call(s, tools, "legacy", "acp_bulk_delete_sessions",
                          {"sessions": [RUNNING, DONE], "dry_run": True}, progress_callback=on_progress)
        outcomes = [(r.get("session"), r.get("outcome")) for r in bulk.get("results", [])]
        check("acp_bulk_delete_sessions dry_run: would delete both, deletes nothing",
              outcomes == [(RUNNING, "would_delete"), (DONE, "would_delete")], bulk)
        check("acp_bulk_delete_sessions: one progress notification per session, with total and message",
              [(p[0], p[1]) for p in progress] == [(1, 2), (2, 2)] and all(p[2] for p in progress), progress)

        await call(s, tools, "legacy", "acp_get_session", {"session": "Not_A_Name"}, expect_error=True)
        try:
            await s.call_tool("acp_no_such_tool", {})
            check("unknown tool: JSON-RPC error -32602", False, "no error")
        except MCPError as e:
            check("unknown tool: JSON-RPC error -32602", e.code == INVALID_PARAMS, f"{e.code} {e}")

        check("no log messages before logging/setLevel", not logs, logs)
        await s.set_logging_level("info")
        await call(s, tools, "legacy", "acp_whoami", {})
        check("logging/setLevel info: notifications/message arrive", bool(logs), logs)
        check("log messages: level and data", all(m.get("level") and "data" in m for m in logs), logs)
        no_token("log messages", logs)


async def stateless() -> None:
    print(f"[{STATELESS}] ClientSession.discover() over stdio", flush=True)
    logs: list[Any] = []

    async def on_log(params: Any) -> None:
        logs.append(wire(params))

    async with stdio_client(SERVER) as (read, write), ClientSession(
        read, write, read_timeout_seconds=READ_TIMEOUT, logging_callback=on_log
    ) as s:
        found = await s.discover()
        check("server/discover: protocol 2026-07-28 adopted", s.protocol_version == STATELESS, s.protocol_version)
        check("server/discover: supportedVersions has 2026-07-28 and 2025-11-25",
              {STATELESS, "2025-11-25"} <= set(found.supported_versions), found.supported_versions)
        check("server/discover: serverInfo in _meta names mcp-acp",
              s.server_info is not None and s.server_info.name == "mcp-acp", wire(found))
        check("server/discover: tools capability", found.capabilities.tools is not None, wire(found))
        raw = wire(found)
        check("server/discover: ttlMs and cacheScope",
              isinstance(raw.get("ttlMs"), int) and raw.get("cacheScope") in ("public", "private"), raw)

        listing = await s.list_tools()
        tools = check_tool_listing(STATELESS, listing)
        if legacy_tools:
            same = {n for n, t in tools.items() if legacy_tools.get(n) == t}
            check("2026-07-28 tools/list: each tool exactly as in the legacy listing", same == set(TOOLS),
                  sorted(set(TOOLS) - same))

        listing = await call(s, tools, STATELESS, "acp_list_sessions", {})
        ids = [x["id"] for x in listing.get("sessions", [])]
        check("2026-07-28 acp_list_sessions: both sessions", {RUNNING, DONE} <= set(ids), ids)
        shown = await call(s, tools, STATELESS, "acp_get_session", {"session": RUNNING})
        check("2026-07-28 acp_get_session: running", shown.get("session", {}).get("status") == "running", shown)
        await call(s, tools, STATELESS, "acp_list_clusters", {})
        me = await call(s, tools, STATELESS, "acp_whoami", {})
        check("2026-07-28 acp_whoami: cluster dev", me.get("cluster") == "dev", me)
        check("2026-07-28: no log messages without a per-request logLevel", not logs, logs)

        try:
            await s.send_ping()
            check("2026-07-28 ping: removed (-32601)", False, "ping was answered")
        except MCPError as e:
            check("2026-07-28 ping: removed (-32601)", e.code == METHOD_NOT_FOUND, f"{e.code} {e}")


async def auto_client() -> None:
    print("[auto] mcp.Client(mode='auto', log_level='info') over stdio", flush=True)
    logs: list[Any] = []

    async def on_log(params: Any) -> None:
        logs.append(wire(params))

    async with mcp.Client(SERVER, mode="auto", log_level="info", logging_callback=on_log,
                          read_timeout_seconds=READ_TIMEOUT) as client:
        session = client.session
        check("mcp.Client auto: negotiated 2026-07-28",
              session.protocol_version in MODERN_PROTOCOL_VERSIONS and session.protocol_version == STATELESS,
              session.protocol_version)
        listing = await client.list_tools()
        check(f"mcp.Client auto: {len(TOOLS)} tools", [t.name for t in listing.tools] == TOOLS)
        result = await client.call_tool("acp_whoami", {})
        check("mcp.Client auto: acp_whoami structured result",
              not result.is_error and (result.structured_content or {}).get("cluster") == "dev", wire(result))
        check("mcp.Client auto: log messages for a request with logLevel info", bool(logs), logs)
        no_token("mcp.Client auto: log messages", logs)


async def main() -> int:
    for phase in (legacy, stateless, auto_client):
        try:
            with anyio.fail_after(PHASE_SECONDS):
                await phase()
        except Exception:  # noqa: BLE001 - report and go on with the next phase
            check(f"{phase.__name__}: ran to the end", False, traceback.format_exc())
    print(f"python-sdk: {checks.passed} passed, {len(checks.failed)} failed", flush=True)
    for name in checks.failed:
        print(f"  failed: {name}", flush=True)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
