"""Import tools from any wire format's or MCP's lists (previewed first); export the enabled set."""

from __future__ import annotations

import streamlit as st

from components import state, tool_state, untrusted
from core.tools.formats import (
    MAX_IMPORT_BYTES,
    export,
    export_formats,
    import_plan,
    parse_import,
)
from core.tools.library import LibraryEntry
from core.types import ToolSpec


def render(entries: list[LibraryEntry], sent: list[ToolSpec]) -> None:
    st.subheader("Import")
    kinds = ", ".join(label for name, label in export_formats().items() if name != "mcp")
    st.caption(f"Paste or upload a tools list in any wire format ({kinds}; a whole request "
               "body works too), or an MCP `tools/list` result (`inputSchema`). JSON or YAML, "
               f"up to {MAX_IMPORT_BYTES // 1_000_000} MB.")
    upload = st.file_uploader("Upload a file", type=["json", "yaml", "yml"],
                              key="tools.import_file", max_upload_size=1)
    state.restore("tools.import_text", "")
    st.text_area("…or paste here", key="tools.import_text", height=160,
                 on_change=state.keep, args=("tools.import_text",))
    text = ""
    if upload is not None:
        raw = upload.getvalue()
        if len(raw) > MAX_IMPORT_BYTES:
            st.error(f"{untrusted.code(upload.name)} is larger than "
                     f"{MAX_IMPORT_BYTES // 1_000_000} MB.")
        else:
            text = raw.decode("utf-8", "replace")
    text = text or st.session_state.get("tools.import_text", "")
    if text.strip():
        _preview(text, entries)

    st.subheader("Export the enabled tools")
    if not sent:
        st.info("No tools are enabled; switch some on in the Library tab.")
        return
    labels = export_formats()
    fmt = st.segmented_control("Format", list(labels), format_func=labels.get,
                               key="tools.export_fmt", default="openai", required=True) \
        or "openai"
    body = export(sent, fmt)
    st.code(body, language="json")
    st.download_button(f"Download {labels[fmt]} (JSON)", body,
                       file_name=f"tools-{fmt}.json", mime="application/json",
                       key="tools.export_download")


def _preview(text: str, entries: list[LibraryEntry]) -> None:
    result = parse_import(text)
    for problem in result.problems:
        st.error(untrusted.text(problem))
    if not result.specs:
        if not result.problems:
            st.warning("The list is empty: nothing to import.")
        return
    plan = import_plan(result.specs, {e.name: e.spec for e in entries if e.spec})
    st.markdown(f"Found **{len(result.specs)}** tool(s) ({', '.join(sorted(result.formats))} "
                "format). Importing will:")
    st.table([{"action": untrusted.text(action), "tool": untrusted.code(name)}
              for action, name in plan])
    unsaved = [name for action, name in plan
               if action.startswith("replace") and tool_state.unsaved_editor_for(name, entries)]
    if unsaved:
        st.warning("The editor has unsaved edits of "
                   + ", ".join(untrusted.code(n) for n in unsaved)
                   + ": importing replaces them with the imported version. Save or copy them "
                   "first to keep them.")
    st.button(f"Import {len(result.specs)} tool(s)", key="tools.import_go", type="primary",
              on_click=tool_state.import_tools, args=(result.specs,))
