"""The inspector's view of one MCP tool call: server, tool, arguments, the result as the
server sent it, and the duration (a call is not an HTTP request to a model, so it has no
headers, usage or code to show)."""

from __future__ import annotations

import json
import time

import streamlit as st

from core.types import Exchange


def render(exchange: Exchange) -> None:
    body = exchange.request_body
    params = body.get("params") if isinstance(body.get("params"), dict) else {}
    took = (exchange.ended_at or exchange.started_at) - exchange.started_at
    with st.container(border=True):
        st.markdown(f"**MCP call** `{exchange.id}` · tools/call `{params.get('name')}` on "
                    f"server `{body.get('server')}` ({exchange.base_url}) · "
                    f"{'failed' if exchange.error else 'answered'} in {took * 1000:.0f} ms")
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(exchange.started_at))
        st.caption(f"Started {started} · for tool call `{body.get('tool_call_id')}`")
        request_tab, response_tab = st.tabs(["Request", "Result"])
        with request_tab:
            st.code(json.dumps({"method": "tools/call", "params": params}, indent=2,
                               ensure_ascii=False), language="json")
        with response_tab:
            if exchange.error:
                st.error(exchange.error)
            if exchange.response_body is not None:
                text = json.dumps(exchange.response_body, indent=2, ensure_ascii=False)
                st.code(text[:200_000], language="json")
