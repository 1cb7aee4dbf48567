"""The result boxes for pending tool calls and the Send tool results button."""

from __future__ import annotations

import streamlit as st

from components import state
from core.types import ToolCall


def render(calls: list[ToolCall]) -> None:
    with st.container(border=True):
        count = "call" if len(calls) == 1 else f"{len(calls)} calls"
        st.markdown(f"⏳ **The model is waiting for the result of {count}.** Type what each "
                    "tool returned (JSON or text), then send.")
        for call in calls:
            state.restore_result_widget(call.id)
            st.text_area(
                f"Result of {call.name or '?'} ({call.id})",
                key=state.result_key(call.id),
                on_change=state.save_result_draft, args=(call.id,),
                placeholder='e.g. {"temperature": 22, "unit": "celsius"}',
                height=100,
            )
        st.button("Send tool results", type="primary", key="chat.send_results",
                  on_click=state.request, args=("results",))
