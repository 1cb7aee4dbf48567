"""Tools: the schema workbench — library, editor with live checks, import and export."""

import streamlit as st

from components import state, tool_editor, tool_import_export, tool_library
from components.shell import guarded


def page() -> None:
    st.title("Tools")
    flash = state.take_flash()
    if flash:
        kind, text = flash
        (st.success if kind == "success" else st.error)(text)
    hint = st.session_state.pop("tools.tab_hint", None) if "tools.tab_hint" in st.session_state \
        else None
    if hint:
        st.info(hint)
    entries = state.library()
    enabled = state.enabled_tool_names(entries)
    library_tab, editor_tab, io_tab = st.tabs(["Library", "Editor", "Import / export"])
    with library_tab:
        tool_library.render(entries, enabled)
    with editor_tab:
        tool_editor.render(entries)
    with io_tab:
        tool_import_export.render(entries, state.enabled_tools())


guarded(page)
