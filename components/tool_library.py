"""The library list: which tools exist, whether each is valid, and which ones are sent."""

from __future__ import annotations

import streamlit as st

from components import own_tools, state, tool_state
from components.clients import client_for
from components.untrusted import code, text
from core.tools import token_count
from core.tools.library import LibraryEntry
from core.tools.schemas import set_problems
from core.types import ToolSpec
from core.wire.errors import ToolsmithError


def render_request_controls(names: list[str]) -> None:
    """tool_choice and parallel_tool_calls for the requests the Chat page sends."""
    left, right = st.columns(2)
    options = [*state.TOOL_CHOICES, *names]
    state.restore_shared("tools.tool_choice", "auto")
    if st.session_state["tools.tool_choice"] not in options:
        st.session_state["tools.tool_choice"] = "auto"
    left.selectbox(
        "tool_choice", options, key="tools.tool_choice", on_change=state.keep,
        args=("tools.tool_choice",),
        format_func=lambda o: o if o in state.TOOL_CHOICES else f"only {o}",
        help="auto: the model decides; none: no tool calls; required: at least one call; "
             "a tool name: exactly that tool.",
    )
    state.restore_shared("tools.parallel", "server default")
    right.selectbox(
        "parallel_tool_calls", state.PARALLEL_CHOICES, key="tools.parallel",
        on_change=state.keep, args=("tools.parallel",),
        help="Whether the model may call several tools in one turn.",
    )


def render(entries: list[LibraryEntry], enabled: set[str]) -> None:
    sent = [e.spec for e in entries if e.spec and e.spec.name in enabled]
    fmt = state.endpoint().format
    tokens = sum(token_count.offline_tokens(s, fmt).tokens for s in sent)
    st.caption(f"{len(entries)} tool files in `{state.tools_dir()}` · {len(sent)} sent with each "
               f"Chat request, adding ≈ {tokens} tokens to every request in the {fmt.label} "
               f"format ({token_count.offline_source()}).")
    if own_tools.owner():
        mine = sum(1 for e in entries if own_tools.holds(e.path))
        st.caption(f"Team library: the shared tools are kept by the admins; your own tools "
                   f"({mine}) are kept for you alone. Saving, importing or copying a tool "
                   "makes it yours (a shared tool you save becomes your own version).")
    exact = _exact_counts(sent)
    for problem in set_problems(sent):
        st.error(text(problem.message))
    render_request_controls([s.name for s in sent])
    if not entries:
        st.info("The library is empty: create a tool in the Editor tab, or import some.")
    for entry in entries:
        _row(entry, enabled, exact)


def _exact_counts(sent: list[ToolSpec]) -> token_count.ExactCounts | None:
    """The Count exactly action: the server's own count of the enabled tools, once per tool
    version (cached in core), with its source named."""
    endpoint = state.endpoint()
    possible = token_count.can_count(endpoint) and bool(sent) and not endpoint.problem()
    exact = token_count.cached_counts(endpoint, sent) if possible else None
    left, right = st.columns([3, 1], vertical_alignment="center")
    clicked = right.button(
        "Count exactly", key="tools.count_exactly", disabled=not possible or exact is not None,
        help=f"Ask the server ({endpoint.format.label} format's counting endpoint) how many "
             "tokens each enabled definition and the whole set add."
        if token_count.can_count(endpoint) else
        f"The {endpoint.format.label} format has no counting endpoint; pick Responses or "
        "Anthropic as the wire format in the sidebar to count exactly.")
    if clicked:
        try:
            with st.spinner("Counting…"):
                exact = token_count.count_exactly(endpoint, sent, client_for(endpoint))
        except ToolsmithError as exc:
            left.error(text(f"{exc.message} {exc.detail}".strip()))
    if exact is not None:
        left.success(f"Exactly **{exact.whole_set}** tokens for the {len(sent)} enabled "
                     f"tool(s) ({exact.source}; a request without tools is {exact.bare}).")
    return exact


def _row(entry: LibraryEntry, enabled: set[str],
         exact: token_count.ExactCounts | None = None) -> None:
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        if entry.spec is None:
            left.markdown(f"**{code(entry.path.name)}** — cannot be used")
            for problem in entry.problems:
                left.error(text(problem), icon=":material/description:")
            right.button("Edit", key=f"tools.edit.{entry.path.stem}",
                         on_click=tool_state.select_tool, args=(entry.path.stem,))
            return
        spec = entry.spec
        params = spec.parameters.get("properties") or {}
        badges = " · strict" if spec.strict else ""
        left.markdown(f"**{code(spec.name)}** — {text(spec.description, 2_000)}")
        left.caption(f"{len(params)} parameter{'s' if len(params) != 1 else ''}"
                     f"{': ' if params else ''}{', '.join(code(p) for p in params)}"
                     f" · {_tokens(spec, exact)}{badges} · {code(entry.path.name)}")
        for problem in entry.problems:
            left.warning(text(problem))
        key = f"tools.enable.{spec.name}"
        if key not in st.session_state:
            st.session_state[key] = spec.name in enabled
        right.toggle("Send", key=key, on_change=state.set_tool_enabled, args=(spec.name,))
        right.button("Edit", key=f"tools.edit.{entry.path.stem}", on_click=tool_state.select_tool,
                     args=(entry.path.stem,))


def _tokens(spec: ToolSpec, exact: token_count.ExactCounts | None) -> str:
    offline = token_count.offline_tokens(spec, state.endpoint().format)
    figure = f"≈ {offline.tokens} tokens ({token_count.ENCODING})" \
        if offline.source == token_count.OFFLINE_SOURCE else f"≈ {offline.tokens} tokens (÷4)"
    if exact is not None and spec.name in exact.per_tool:
        figure += f" · exactly {exact.per_tool[spec.name]} (server)"
    return figure
