"""Simulate on a result box: a separate request asks the current model for a plausible result
of the call, which fills the box for the user to edit and send (core/tools/simulate.py)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components import inspector, mcp_run, mcp_state, messages, state
from components.clients import client_for
from components.untrusted import code, text
from core.config import Endpoint
from core.conversation import Conversation
from core.tools.mcp_tools import spec_of
from core.tools.simulate import PURPOSE, result_text, simulation_request
from core.turn import run_turn
from core.types import ChatSettings, ToolCall


def handle(conversation: Conversation, pending: list[ToolCall], endpoint: Endpoint,
           settings: ChatSettings) -> None:
    """Carry out a Simulate click: one request, its answer into the box (errors said here)."""
    call_id = mcp_state.take_simulation_request()
    call = next((c for c in pending if c.id == call_id), None)
    if call is None:
        return
    library = {t.name: t for t in state.library_specs()}
    served = mcp_run.connected_tools().get(call.name)
    tool = library.get(call.name) or (spec_of(served) if served else None)
    output_schema = served.output_schema if served else None
    request_messages, request_settings = simulation_request(
        call, tool, output_schema, conversation.messages, replace(settings, stream=False))
    with st.spinner(f"Simulating a result of `{call.name}` with `{settings.model}`…"):
        result = run_turn(endpoint, request_messages, [], request_settings,
                          client=client_for(endpoint))
    result.exchange.purpose = PURPOSE
    conversation.exchanges[result.exchange.id] = result.exchange
    mcp_state.remember_simulation(call.id, result.exchange.id)
    if result.message is None:
        error = result.error
        st.error(f"Simulate failed: {text(error.message) if error else 'no answer'} The box is "
                 "unchanged.", icon=":material/block:")
        return
    mcp_state.fill_result(call.id, result_text(result.message.content), False)


def button(call: ToolCall, where: st.delta_generator.DeltaGenerator) -> None:
    where.button("Simulate", key=f"chat.simulate.{call.id}", icon=":material/casino:",
                 on_click=mcp_state.request_simulation, args=(call.id,),
                 help="Ask the current model for a plausible result of this call (a separate "
                      "request, marked as simulated), to edit before sending.")


def outcome(call: ToolCall) -> None:
    """Which simulation filled this box, with its 🔍."""
    exchange_id = mcp_state.simulation_of(call.id)
    exchange = state.chat().conversation.exchanges.get(exchange_id or "")
    if exchange is None:
        return
    line, button_at = st.columns([12, 1], vertical_alignment="center")
    took = f"{exchange.latency_s:.2f} s" if exchange.latency_s is not None else "?"
    line.caption(f":material/casino: Simulated by {code(exchange.model)} in {took}"
                 f"{' — failed' if exchange.error else ''} (a separate request)")
    messages.inspect_button(button_at, exchange.id)
    if state.inspected() == exchange.id:
        inspector.render(exchange)
