"""The library list: which tools exist, whether each is valid, and which ones are sent."""

from __future__ import annotations

import streamlit as st

from components import state, tool_state
from core.tools.library import LibraryEntry
from core.tools.schemas import estimate_tokens, set_problems


def render_request_controls(names: list[str]) -> None:
    """tool_choice and parallel_tool_calls for the requests the Chat page sends."""
    left, right = st.columns(2)
    options = [*state.TOOL_CHOICES, *names]
    state.restore("tools.tool_choice", "auto")
    if st.session_state["tools.tool_choice"] not in options:
        st.session_state["tools.tool_choice"] = "auto"
    left.selectbox(
        "tool_choice", options, key="tools.tool_choice", on_change=state.keep,
        args=("tools.tool_choice",),
        format_func=lambda o: o if o in state.TOOL_CHOICES else f"only {o}",
        help="auto: the model decides; none: no tool calls; required: at least one call; "
             "a tool name: exactly that tool.",
    )
    state.restore("tools.parallel", "server default")
    right.selectbox(
        "parallel_tool_calls", state.PARALLEL_CHOICES, key="tools.parallel",
        on_change=state.keep, args=("tools.parallel",),
        help="Whether the model may call several tools in one turn.",
    )


def render(entries: list[LibraryEntry], enabled: set[str]) -> None:
    sent = [e.spec for e in entries if e.spec and e.spec.name in enabled]
    tokens = sum(estimate_tokens(s) for s in sent)
    st.caption(f"{len(entries)} tool files in `{state.tools_dir()}` · {len(sent)} sent with each "
               f"Chat request, adding ≈ {tokens} tokens to every request (estimate: characters "
               "of the compact JSON definition ÷ 4).")
    for problem in set_problems(sent):
        st.error(problem.message)
    render_request_controls([s.name for s in sent])
    if not entries:
        st.info("The library is empty: create a tool in the Editor tab, or import some.")
    for entry in entries:
        _row(entry, enabled)


def _row(entry: LibraryEntry, enabled: set[str]) -> None:
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        if entry.spec is None:
            left.markdown(f"**`{entry.path.name}`** — cannot be used")
            for problem in entry.problems:
                left.error(str(problem), icon="📄")
            right.button("Edit", key=f"tools.edit.{entry.path.stem}",
                         on_click=tool_state.select_tool, args=(entry.path.stem,))
            return
        spec = entry.spec
        params = spec.parameters.get("properties") or {}
        badges = " · strict" if spec.strict else ""
        left.markdown(f"**`{spec.name}`** — {spec.description}")
        left.caption(f"{len(params)} parameter{'s' if len(params) != 1 else ''}"
                     f"{': ' if params else ''}{', '.join(f'`{p}`' for p in params)}"
                     f" · ≈ {estimate_tokens(spec)} tokens{badges} · `{entry.path.name}`")
        for problem in entry.problems:
            left.warning(str(problem))
        key = f"tools.enable.{spec.name}"
        if key not in st.session_state:
            st.session_state[key] = spec.name in enabled
        right.toggle("Send", key=key, on_change=state.set_tool_enabled, args=(spec.name,))
        right.button("Edit", key=f"tools.edit.{entry.path.stem}", on_click=tool_state.select_tool,
                     args=(entry.path.stem,))
