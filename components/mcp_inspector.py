"""The inspector's view of a tool run: an MCP tools/call (server, tool, arguments, the result
as the server sent it) or an HTTP tool's request (method, URL, headers as configured — secrets
as `$NAME` references — body, status and answer), with the duration. A run is not a request
to a model, so it has no usage or generated code to show."""

from __future__ import annotations

import json
import time

import streamlit as st

from components.untrusted import code, text
from core.types import Exchange

SHOWN = 200_000


def render(exchange: Exchange) -> None:
    body = exchange.request_body
    took = (exchange.ended_at or exchange.started_at) - exchange.started_at
    outcome = "failed" if exchange.error else "answered"
    with st.container(border=True):
        if exchange.wire == "mcp":
            params = body.get("params") if isinstance(body.get("params"), dict) else {}
            st.markdown(f"**MCP call** {code(exchange.id)} · tools/call "
                        f"{code(params.get('name'))} on server {code(body.get('server'))} "
                        f"({code(exchange.base_url, 500)}) · {outcome} in {took * 1000:.0f} ms")
            request = {"method": "tools/call", "params": params}
        else:
            st.markdown(f"**HTTP tool** {code(exchange.id)} · {code(body.get('method'))} "
                        f"{code(exchange.url, 500)} · status **{exchange.status or 'no answer'}**"
                        f" · {outcome} in {took * 1000:.0f} ms")
            request = {"headers (secrets as $NAME)": exchange.request_headers,
                       "body": body.get("body")}
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(exchange.started_at))
        st.caption(f"Started {started} · for tool call {code(body.get('tool_call_id'))}")
        request_tab, response_tab = st.tabs(["Request", "Result"])
        with request_tab:
            st.code(json.dumps(request, indent=2, ensure_ascii=False), language="json")
        with response_tab:
            if exchange.error:
                st.error(text(exchange.error))
            if exchange.response_body is not None:
                answer = json.dumps(exchange.response_body, indent=2, ensure_ascii=False)
                st.code(answer[:SHOWN], language="json")
