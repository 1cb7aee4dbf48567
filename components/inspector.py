"""The exchange inspector: the exact request, the raw response, timings and attempts, and the
same request as runnable code. Credentials are masked before anything reaches this module."""

from __future__ import annotations

import json
import time

import streamlit as st

from components import mcp_inspector, untrusted
from core.codegen import LABELS, LANGUAGES, RequestSpec, generate
from core.types import Exchange

TRANSCRIPT_SHOWN = 200_000


def _clock(at: float | None, start: float) -> str:
    if at is None:
        return "—"
    stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at % 1 * 1000):03d}"
    return f"{stamp} (+{(at - start) * 1000:.0f} ms)"


def render(exchange: Exchange) -> None:
    if exchange.wire in ("mcp", "http-tool"):  # a tool run, not a model request
        mcp_inspector.render(exchange)
        return
    with st.container(border=True):
        status = exchange.status if exchange.status is not None else "no answer"
        st.markdown(f"**Exchange** {untrusted.code(exchange.id)} · POST "
                    f"{untrusted.code(exchange.url or exchange.base_url, 500)} · status "
                    f"**{status}**"
                    + (f" · request id {untrusted.code(exchange.request_id)}"
                       if exchange.request_id else ""))
        if exchange.purpose == "draft-tool":
            st.caption(":material/auto_awesome: A tool draft: a separate request asking the "
                       "model to write a tool definition from a description (Generate on the "
                       "Tools page).")
        if exchange.purpose == "simulate":
            st.caption(":material/casino: A simulated tool result: a separate request asking "
                       "the model for a plausible result of one call (not a turn of the "
                       "conversation).")
        request_tab, response_tab, timing_tab, code_tab = st.tabs(
            ["Request", "Response", "Timing", "Code"])
        with request_tab:
            st.caption("Headers (credentials masked)")
            st.code(json.dumps(exchange.request_headers, indent=2), language="json")
            st.caption("Body, exactly as sent")
            st.code(json.dumps(exchange.request_body, indent=2, ensure_ascii=False),
                    language="json")
        with response_tab:
            _response(exchange)
        with timing_tab:
            start = exchange.started_at
            st.table([
                {"event": "start", "at": _clock(start, start)},
                {"event": "first byte", "at": _clock(exchange.first_byte_at, start)},
                {"event": "first token", "at": _clock(exchange.first_token_at, start)},
                {"event": "end", "at": _clock(exchange.ended_at, start)},
            ])
            if exchange.attempts:
                st.caption(f"{len(exchange.attempts)} attempt(s)")
                st.table([{"attempt": i + 1, "started": _clock(a.started_at, start),
                           "status": a.status or "—", "error": a.error or "",
                           "waited before next (s)": a.retry_after_s or ""}
                          for i, a in enumerate(exchange.attempts)])
        with code_tab:
            code(RequestSpec.of_exchange(exchange), key=f"inspect.{exchange.id}",
                 demo=exchange.provider == "demo")


def _response(exchange: Exchange) -> None:
    if exchange.error:
        st.error(untrusted.text(exchange.error))
    if exchange.response_headers:
        st.caption("Response headers (ids, rate limits, retry hints)")
        st.code(json.dumps(exchange.response_headers, indent=2), language="json")
    if exchange.transcript:
        shown = exchange.transcript[:TRANSCRIPT_SHOWN]
        st.caption(f"Server-Sent Events as received ({len(exchange.transcript):,} characters"
                   f"{', first part shown' if len(shown) < len(exchange.transcript) else ''})")
        st.code(shown, language=None)
    if exchange.response_body is not None:
        st.caption("Response body" if not exchange.stream else "The stream, accumulated")
        body = exchange.response_body
        st.code(body if isinstance(body, str) else
                json.dumps(body, indent=2, ensure_ascii=False), language="json")
    if not (exchange.transcript or exchange.response_body is not None or exchange.error):
        st.caption("No response was received.")


def code(spec: RequestSpec, *, key: str, demo: bool = False) -> None:
    """The request as curl, Python and JavaScript; copy with the button on each block."""
    if demo:
        st.caption("The offline demo model runs inside Toolsmith: this code targets its "
                   "placeholder address. Point the URL at a real server to run it.")
    language = st.segmented_control("Language", list(LABELS), format_func=LABELS.get,
                                    key=f"{key}.lang", default="curl", required=True)
    st.code(generate(spec, language or "curl"), language=LANGUAGES[language or "curl"])
    st.caption(f"The key is read from ${spec.key_env}; it is never written into the code.")
