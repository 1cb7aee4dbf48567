"""One card per tool call: name, call id, arguments pretty-printed, the raw string on demand."""

from __future__ import annotations

import json

import streamlit as st

from core.types import ToolCall


def render(call: ToolCall, *, live: bool = False) -> None:
    with st.container(border=True):
        name = call.name or "(no name sent)"
        call_id = call.id or "(id not yet sent)"
        st.markdown(f"🔧 **`{name}`** &nbsp;·&nbsp; call id `{call_id}`")
        if live:
            st.caption("Arguments arriving…")
            st.code(call.arguments or " ", language="json")
            return
        value, problem = call.parsed_arguments()
        if problem:
            st.warning(f"The arguments are {problem}. They are shown raw below; you can still "
                       "answer the call, or Retry for a fresh attempt.", icon="⚠️")
            st.code(call.arguments, language=None)
            return
        st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")
        with st.expander("Raw arguments string"):
            st.code(json.dumps(call.arguments, ensure_ascii=False), language=None)
