"""Running a library tool that declares `run: {http: …}` from the chat (core/tools/http_tool.py):
the request goes to its URL (`{base}`: the configured OpenAI-format server; the demo model's
transport when it is the demo), the answer fills the result box, and the request is kept
with the conversation as an exchange of wire "http-tool"."""

from __future__ import annotations

import os

import streamlit as st

from components import mcp_state, state
from components.clients import client_for
from components.untrusted import code
from core.config import DEMO_BASE_URL, Endpoint, provider_of
from core.tools.http_tool import WIRE, prepare, send
from core.tools.mcp_config import redact_secrets
from core.types import Exchange, ToolCall, ToolSpec
from core.wire.http import make_client


def http_tools() -> dict[str, ToolSpec]:
    return {s.name: s for s in state.library_specs() if s.run and "http" in s.run}


def openai_base(endpoint: Endpoint) -> str:
    """Where `{base}` points: the sidebar's server when it speaks an OpenAI format (or is the
    demo), else OPENAI_BASE_URL, else OpenAI's own."""
    if endpoint.is_demo or endpoint.wire != "anthropic":
        return endpoint.base_url
    return os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"


def _environ() -> dict[str, str]:
    keys = {name: state.api_key(name) for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    return {**os.environ, **{k: v for k, v in keys.items() if v}}


def run(call: ToolCall, spec: ToolSpec) -> Exchange | None:
    """Make the request and fill the box; returns the exchange to keep (None: not sent)."""
    arguments, problem = call.parsed_arguments()
    if problem or not isinstance(arguments, dict):
        mcp_state.fill_result(call.id, f"Not run: the arguments are "
                              f"{problem or 'not a JSON object'}.", True)
        return None
    endpoint = state.endpoint()
    base = openai_base(endpoint)
    environ = _environ()
    if endpoint.is_demo:  # the demo needs no key; a missing one must not stop it
        environ.setdefault("OPENAI_API_KEY", "no-key-needed-by-the-demo-model")
    try:
        request = prepare(spec.run or {}, arguments, base=base, environ=environ)
    except ValueError as exc:
        mcp_state.fill_result(call.id, f"Not run: {exc}.", True)
        return None
    demo = request.url.startswith(DEMO_BASE_URL)
    with st.spinner(f"Running {code(call.name)}: {request.method} {code(request.url, 500)}…"):
        if demo:
            answer = send(request, client_for(endpoint))
        else:  # make_client: the egress policy of a team server applies here too
            with make_client(endpoint.timeouts) as client:
                answer = send(request, client)
    mcp_state.fill_result(call.id, answer.text, answer.is_error)
    return Exchange(
        provider=provider_of(base, demo=demo), model=call.name, base_url=base,
        request_body={"tool_call_id": call.id, "method": request.method,
                      "body": request.body},
        stream=False, started_at=answer.started_at,
        url=redact_secrets(request.url, request.secrets), wire=WIRE,
        request_headers=request.shown_headers, status=answer.status,
        response_body=answer.kept, error=answer.error or None,
        error_kind="http" if answer.error else None,
        first_byte_at=answer.ended_at, ended_at=answer.ended_at)
