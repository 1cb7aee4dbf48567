"""Tools: the tool library under tools/, and which tools each request sends."""

import streamlit as st

from components import state
from components.shell import guarded


def page() -> None:
    st.title("Tools")
    entries = state.library()
    enabled = state.enabled_tool_names(entries)
    st.caption(f"{len(entries)} tool files in `{state.TOOLS_DIR}` · "
               f"{len(enabled)} sent with each Chat request.")
    if not entries:
        st.info("The library is empty: add a YAML file with name, description and parameters "
                "to the tools/ folder.")
    for entry in entries:
        with st.container(border=True):
            if entry.spec is None:
                st.markdown(f"**`{entry.path.name}`**")
                st.error(f"This file cannot be used: {entry.error}", icon="📄")
                continue
            spec = entry.spec
            params = (spec.parameters.get("properties") or {})
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f"**`{spec.name}`** — {spec.description}")
            left.caption(f"{len(params)} parameter{'s' if len(params) != 1 else ''}: "
                         + (", ".join(f"`{p}`" for p in params) or "none")
                         + f" · file `{entry.path.name}`")
            key = f"tools.enable.{spec.name}"
            if key not in st.session_state:
                st.session_state[key] = spec.name in enabled
            right.toggle("Send", key=key, on_change=state.set_tool_enabled, args=(spec.name,))
            with st.expander("Definition (YAML)"):
                st.code(entry.source, language="yaml")


guarded(page)
