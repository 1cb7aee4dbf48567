"""A deliberately misbehaving MCP server over stdio (plain JSON lines, no SDK), for the failure
tests that no real server does on demand: a tool whose answer is not a valid result, one that
writes a line that is not JSON and then never answers, and one that crashes mid-call after
writing to stderr, and one whose structured content breaks its own output schema. Each tool
name says what it does."""

from __future__ import annotations

import json
import os
import sys

TOOLS = [
    {"name": name, "description": what, "inputSchema": {"type": "object", "properties": {}}}
    for name, what in (("invalid_result", "answers with a result of the wrong shape"),
                       ("garbage_then_silence", "writes a non-JSON line, then never answers"),
                       ("crash", "exits in the middle of the call"),
                       ("echo_env", "returns the value of MCP_ODD_SECRET (to test redaction)"))
] + [{"name": "weather_report", "description": "structured content that breaks its own schema",
      "inputSchema": {"type": "object", "properties": {}},
      "outputSchema": {"type": "object", "required": ["temperature", "unit"], "properties": {
          "temperature": {"type": "number"}, "unit": {"enum": ["C", "F"]}}}}]


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    print("odd server starting; token=" + os.environ.get("MCP_ODD_SECRET", ""), file=sys.stderr,
          flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        method, ident = request.get("method"), request.get("id")
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": ident, "result": {
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "odd-server", "version": "0.1"}}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": ident, "result": {"tools": TOOLS}})
        elif method == "tools/call":
            name = request["params"]["name"]
            if name == "invalid_result":
                send({"jsonrpc": "2.0", "id": ident, "result": {"content": "not a list"}})
            elif name == "garbage_then_silence":
                sys.stdout.write("this is not JSON-RPC\n")
                sys.stdout.flush()
            elif name == "crash":
                print("Traceback: the odd server fell over", file=sys.stderr, flush=True)
                os._exit(3)
            elif name == "weather_report":
                report = {"temperature": "warm", "unit": "K"}
                send({"jsonrpc": "2.0", "id": ident, "result": {
                    "content": [{"type": "text", "text": json.dumps(report)}],
                    "structuredContent": report}})
            elif name == "echo_env":
                send({"jsonrpc": "2.0", "id": ident, "result": {"content": [
                    {"type": "text", "text": os.environ.get("MCP_ODD_SECRET", "")}]}})
        elif method == "notifications/cancelled":
            params = request.get("params") or {}
            print(f"cancelled request {params.get('requestId')}: {params.get('reason')}",
                  file=sys.stderr, flush=True)
        elif ident is not None:
            send({"jsonrpc": "2.0", "id": ident, "result": {}})


if __name__ == "__main__":
    main()
