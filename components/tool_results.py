"""The result boxes for pending tool calls and the Send tool results button."""

from __future__ import annotations

import streamlit as st

from components import history_sync, mcp_run, simulate, state, typed_keeper, untrusted
from core.tools.canned import fitted_results, placeholder
from core.types import ToolCall


def render(calls: list[ToolCall], canned: dict[str, dict[str, str]]) -> None:
    """Result boxes; `canned`: named canned results per tool name, offered as one-click fills."""
    with st.container(border=True):
        what = "the call" if len(calls) == 1 else f"{len(calls)} calls"
        st.markdown(f":material/hourglass_top: **The model is waiting for the result of "
                    f"{what}.** Type what "
                    f"{'the tool' if len(calls) == 1 else 'each tool'} returned (JSON or "
                    "text), then send.")
        mcp_run.run_all_button(calls)
        for call in calls:
            # Examples and canned results follow this call's tool and arguments.
            options = fitted_results(canned.get(call.name) or {}, call)
            state.restore_result_widget(call.id)
            typed_keeper.keep(call.id)
            st.text_area(
                f"Result of {untrusted.text(call.name or '?')} ({untrusted.text(call.id)})",
                key=state.result_key(call.id),
                on_change=history_sync.keep_result_draft, args=(call.id,),
                placeholder=placeholder(canned.get(call.name) or {}, call),
                height=100,
            )
            st.checkbox("This result is an error", key=state.result_error_key(call.id),
                        on_change=history_sync.keep_result_draft, args=(call.id,),
                        help="Sent as is_error on the tool_result in the Anthropic format "
                             "(the OpenAI format has no such flag).")
            mcp_run.controls(call)
            row = st.container(horizontal=True)
            for label, text in options.items():
                row.button(
                    f"Use “{label}”", key=f"chat.canned.{call.id}.{label}",
                    on_click=history_sync.use_canned_result, args=(call.id, text, label),
                    help=text[:300])
            simulate.button(call, row)
            simulate.outcome(call)
        buttons = st.container(horizontal=True)
        chat = state.chat()  # the clicks go to the chat drawn (ChatState.request says why)
        buttons.button("Send tool results", type="primary", key="chat.send_results",
                       on_click=chat.request, args=("results",))
        buttons.button("Retry this turn", key="chat.regenerate", icon=":material/refresh:",
                       on_click=chat.request, args=("regenerate",),
                       help="Discard these calls and ask the model again (the request is kept "
                            "in the inspector's history).")
