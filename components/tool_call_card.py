"""One card per tool call: name, call id, arguments pretty-printed, the raw string on demand,
and whether the arguments fit the schema sent in that very request."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from components.untrusted import code, text
from core.tools.schemas import argument_violations
from core.types import ToolCall


def render(call: ToolCall, *, sent: dict[str, dict[str, Any]] | None = None,
           live: bool = False, live_note: str = "") -> None:
    """`sent`: the tools offered by the request that produced this call (None: unknown).
    `live`: arguments still arriving (a bounded tail; `live_note` says how much is hidden)."""
    with st.container(border=True):
        name = call.name or "(no name sent)"
        call_id = call.id or "(id not yet sent)"
        st.markdown(f":material/build: **{code(name)}** &nbsp;·&nbsp; call id {code(call_id)}")
        if live:
            st.caption(f"Arguments arriving… {live_note}".strip())
            st.code(call.arguments or " ", language="json")
            return
        value, problem = call.parsed_arguments()
        if problem:
            st.warning(f"The arguments are {text(problem)}. They are shown raw below; you can "
                       "still answer the call, or use Retry this turn for a fresh attempt.",
                       icon=":material/warning:")
            st.code(call.arguments, language=None)
        else:
            st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")
            with st.expander("Raw arguments string"):
                st.code(json.dumps(call.arguments, ensure_ascii=False), language=None)
        if sent is not None:
            _schema_check(call, value, problem, sent)


def _schema_check(call: ToolCall, value: Any, problem: str | None,
                  sent: dict[str, dict[str, Any]]) -> None:
    if call.name not in sent:
        st.error(f"Unknown tool: the request offered no tool named {code(call.name)} "
                 f"(it offered {', '.join(code(n) for n in sent) or 'none'}).",
                 icon=":material/help:")
        return
    if problem:
        return
    violations = argument_violations(value, sent[call.name])
    if not violations:
        st.caption(":material/check_circle: Arguments fit the schema that was sent.")
        return
    st.error(f"Arguments break the schema that was sent ({len(violations)} "
             f"violation{'s' if len(violations) != 1 else ''}):", icon=":material/block:")
    # Text, not a table: selectable, found by the browser's search, read by a screen reader.
    st.markdown("\n".join(
        f"- {code(v.pointer or '/')}: {text(v.message)} (value "
        f"{code(json.dumps(v.value, ensure_ascii=False)[:200])})" for v in violations))
