"""Tools: the schema workbench — library, editor with live checks, import and export."""

import streamlit as st

from components import (
    mcp_servers,
    state,
    tool_editor,
    tool_generate,
    tool_import_export,
    tool_library,
    tool_state,
)
from components.shell import guarded


def page() -> None:
    st.title("Tools")
    flash = state.take_flash()
    if flash:
        kind, text = flash
        (st.success if kind == "success" else st.error)(text)
    tool_generate.handle()  # before the tabs: a drafted tool opens in the Editor tab
    entries = state.library()
    enabled = state.enabled_tool_names(entries)
    state.restore("tools.tab", tool_state.TOOLS_TABS[0])
    library_tab, editor_tab, io_tab = st.tabs(list(tool_state.TOOLS_TABS), key="tools.tab",
                                              on_change=state.keep, args=("tools.tab",))
    with library_tab:
        tool_library.render(entries, enabled)
        mcp_servers.render()
    with editor_tab:
        # The form only while its tab is open (.open is None when the tabs keep no state):
        # it is made from the text on every run, so nothing is lost, and the Library tab
        # draws about 40 elements fewer and needs no pandas.
        tool_editor.render(entries, with_form=editor_tab.open is not False)
    with io_tab:
        tool_import_export.render(entries, state.enabled_tools())


guarded(page)
