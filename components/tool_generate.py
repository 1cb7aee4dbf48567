"""Generate on the Tools page: describe a tool in words (and, optionally, paste an example call
or a function signature); the current model drafts its YAML in a separate request, which opens
as a new unsaved tool in the editor, checked like any edit (core/tools/draft.py)."""

from __future__ import annotations

import logging
from dataclasses import replace

import streamlit as st

from components import inspector, messages, state, storage, tool_state
from components.clients import client_for
from components.untrusted import code, text
from core.tools.draft import PURPOSE, draft_request, draft_text
from core.turn import run_turn
from core.types import Exchange

log = logging.getLogger("toolsmith")

SESSION = "tools-generate"  # the exchanges' session id: Usage lists them under it


def form() -> None:
    """The description box and the Generate button (the request runs in `handle`)."""
    model = state.settings().model or "the current model"
    with st.expander("Generate a tool from a description", icon=":material/auto_awesome:"):
        for key in (tool_state.GENERATE_DESCRIPTION, tool_state.GENERATE_EXAMPLE):
            state.restore(key, "")  # a description typed, then a visit to Chat: still there
        st.text_area("What should the tool do?", key=tool_state.GENERATE_DESCRIPTION,
                     placeholder="Look up the shipping status of an order by its order number.",
                     height=80, on_change=state.keep, args=(tool_state.GENERATE_DESCRIPTION,))
        st.text_area("Example call or function signature (optional)",
                     key=tool_state.GENERATE_EXAMPLE, height=68,
                     on_change=state.keep, args=(tool_state.GENERATE_EXAMPLE,),
                     placeholder='def track_order(order_number: str, carrier: str | None = None)'
                                 ' or track_order(order_number="A-1001")')
        st.button(f"Generate with {code(model)}", key="tools.generate.go",
                  icon=":material/auto_awesome:",
                  on_click=tool_state.generate_click().ask,
                  help="A separate request to the sidebar's model; the draft opens as a new, "
                       "unsaved tool for you to check, edit and save.")


def handle() -> None:
    """Carry out a Generate click: one request; its draft opens in the editor. The click is
    let go once the request has returned: a rerun that ends this run before then makes the
    next run ask again, instead of losing the click."""
    click = tool_state.generate_click()
    if not click.asked:
        return
    description, example = tool_state.draft_wanted()
    endpoint, settings = state.endpoint(), state.settings()
    problem = endpoint.problem()
    if not description or problem:
        click.asked = False
        st.error(f"Generate needs a model: {text(problem)}" if description else
                 "Describe the tool first: what it does, and what it needs to know.",
                 icon=":material/block:")
        return
    request_messages, request_settings = draft_request(description, example,
                                                       replace(settings, stream=False))
    with st.spinner(f"Drafting a tool with {code(settings.model)}…"):
        try:
            result = run_turn(endpoint, request_messages, [], request_settings,
                              client=client_for(endpoint))
        finally:
            click.asked = False  # answered or failed: never asked twice for one click
    result.exchange.purpose = PURPOSE
    _keep(result.exchange)
    if result.message is None or not (result.message.content or "").strip():
        error = result.error
        st.error(f"Generate failed: {text(error.message) if error else 'the model gave no text.'} "
                 "Nothing was opened.", icon=":material/block:")
        messages.inspect_button(st, result.exchange.id)
        if state.inspected() == result.exchange.id:
            inspector.render(result.exchange)
        return
    tool_state.open_generated(draft_text(result.message.content), result.exchange)


def _keep(exchange: Exchange) -> None:
    """In the database, so the Usage page counts it (a broken database only loses that)."""
    db = storage.writable_store()
    if db is None:
        return
    try:
        db.record_exchange(SESSION, "Tools page: Generate", exchange)
    except Exception:  # the database banner says what is wrong; the draft opens regardless
        log.exception("could not keep the Generate request")


def outcome(editor_id: str) -> None:
    """Under the editor of a drafted tool: which request drafted it, with its 🔍."""
    exchange = tool_state.generated_by(editor_id)
    if exchange is None:
        return
    line, button_at = st.columns([12, 1], vertical_alignment="center")
    took = f"{exchange.latency_s:.2f} s" if exchange.latency_s is not None else "?"
    line.caption(f":material/auto_awesome: Drafted by {code(exchange.model)} in {took} (a "
                 "separate request). Check it, edit it, then Save to add it to the library.")
    messages.inspect_button(button_at, exchange.id)
    if state.inspected() == exchange.id:
        inspector.render(exchange)
