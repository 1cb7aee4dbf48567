"""Draw a model turn while it streams: text as it arrives, tool-call arguments assembling."""

from __future__ import annotations

import time

import streamlit as st

from components import tool_call_card
from components.clients import client_for
from components.messages import AVATARS
from components.untrusted import assistant_markdown, code, text
from core.config import Endpoint
from core.live import size_note, snapshot
from core.turn import TurnResult, run_turn
from core.types import ChatSettings, Message, ToolCall, ToolSpec
from core.wire.base import Accumulator
from core.wire.http import RetryNotice

# A person sees no difference; 20,000 chunks would otherwise mean 20,000 redraws.
REDRAW_EVERY_S = 0.05


def run(endpoint: Endpoint, messages: list[Message], tools: list[ToolSpec],
        settings: ChatSettings) -> TurnResult:
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        status = st.empty()
        reasoning_box = st.empty()
        text_box = st.empty()
        calls_box = st.empty()
        status.caption(f"Waiting for {code(settings.model)}…")
        last_draw = 0.0

        def draw(acc: Accumulator) -> None:
            nonlocal last_draw
            now = time.monotonic()
            if now - last_draw < REDRAW_EVERY_S:
                return
            last_draw = now
            status.empty()
            # Only a bounded, redacted tail goes over the websocket (core.live explains why).
            view = snapshot(acc, endpoint.api_key)
            if view.reasoning:
                note = size_note(view.reasoning_chars)
                reasoning_box.caption(f"💭 {'… ' if note else ''}{text(view.reasoning)}")
            if view.text:
                note = size_note(view.text_chars)
                with text_box.container():
                    if note:
                        st.caption(f"… {note}")
                    st.markdown(assistant_markdown(view.text) + " ▌")
            if view.calls:
                with calls_box.container():
                    for call in view.calls:
                        tool_call_card.render(ToolCall(call.id, call.name, call.arguments_tail),
                                              live=True, live_note=call.size_note)

        def retrying(notice: RetryNotice) -> None:
            if notice.reason.startswith("The stream was cut"):
                for box in (reasoning_box, text_box, calls_box):  # the partial answer is gone
                    box.empty()
            status.warning(f"{text(notice.reason)} Retrying in {notice.delay_s:.1f} s "
                           f"(retry {notice.retry_number} of {notice.max_retries})…", icon="🔁")

        return run_turn(endpoint, messages, tools, settings, client=client_for(endpoint),
                        on_progress=draw, on_retry=retrying)
