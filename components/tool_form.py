"""The Tools page's form: the tool's name and description, and its parameters as a tree of
tables (one per object: the top, each object property, each array of objects), in step with
the text. What the form does not show is named and left as written."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import tool_state
from components.untrusted import code
from core.tools.form import (
    COLUMNS,
    FORM_TYPES,
    ITEM_TYPES,
    KEY,
    OTHER,
    Level,
    levels,
    not_shown,
    object_at,
    rows_from_object,
)
from core.tools.schemas import EMPTY_PARAMETERS

_SHOWN_AT_MOST = 12


def render(editor_id: str, draft: tool_state.ToolDraft, data: Any) -> None:
    """`data`: the parsed text (None when it does not parse)."""
    st.subheader("Form", divider="gray")
    if not isinstance(data, dict):
        st.info("The form shows the tool once the text parses.")
        return
    version = draft.form_version
    name_col, description_col = st.columns([1, 2])
    for column, field, widget in ((name_col, "name", column_text_input),
                                  (description_col, "description", column_text_area)):
        key = tool_state.form_key(editor_id, version, field)
        value = data.get(field)
        widget(column, field.capitalize(), "" if value is None else str(value), key,
               (editor_id, field, key))
    params = data.get("parameters", EMPTY_PARAMETERS)
    if not isinstance(params, dict):
        st.info("`parameters` is not a mapping: edit it as text above.")
        return
    hidden = not_shown(params)
    if hidden:
        more = len(hidden) - _SHOWN_AT_MOST
        st.info("Not in the form, kept exactly as written (edit them as text): "
                + ", ".join(f"`{p}`" for p in hidden[:_SHOWN_AT_MOST])
                + (f" and {more} more" if more > 0 else "") + ".", icon=":material/info:")
    tree = levels(params)
    _table(editor_id, version, params, tree, tree[0])


def column_text_input(column: Any, label: str, value: str, key: str, args: tuple) -> None:
    column.text_input(label, value=value, key=key, on_change=tool_state.apply_meta_edit,
                      args=args)


def column_text_area(column: Any, label: str, value: str, key: str, args: tuple) -> None:
    column.text_area(label, value=value, key=key, height=68,
                     on_change=tool_state.apply_meta_edit, args=args)


def _table(editor_id: str, version: int, params: dict[str, Any], tree: list[Level],
           level: Level) -> None:
    schema = object_at(params, level.path)
    rows = rows_from_object(schema)
    if level.path:
        kind = "each item" if level.path[-1] == "items" else "object"
        st.markdown(f"**{code(level.label)}** — {kind}'s properties")
    key = tool_state.form_key(editor_id, version, "/".join(level.path) or "parameters")
    types = [*FORM_TYPES, OTHER] if any(r["type"] == OTHER for r in rows) else list(FORM_TYPES)
    import pandas as pd  # here, not with the page: ~0.3 s a first Tools visit does not need

    st.data_editor(
        pd.DataFrame(rows, columns=[*COLUMNS, KEY]),
        key=key, num_rows="dynamic", hide_index=True, width="stretch", placeholder="",
        on_change=tool_state.apply_form_edit, args=(editor_id, key, level.path),
        column_config={
            "name": st.column_config.TextColumn("name", required=True),
            "type": st.column_config.SelectboxColumn("type", options=types, required=True,
                                                     default="string"),
            "nullable": st.column_config.CheckboxColumn(
                "nullable", default=False, help='Also accepts null (type: [x, "null"])'),
            "items": st.column_config.SelectboxColumn(
                "items", options=list(ITEM_TYPES), help="The item type, for arrays"),
            "description": st.column_config.TextColumn("description"),
            "required": st.column_config.CheckboxColumn("required", default=False),
            "enum": st.column_config.TextColumn("enum", help="Allowed values, comma-separated"),
            "default": st.column_config.TextColumn(
                "default", help="Text for strings; JSON for numbers, true/false, lists"),
            "minimum": st.column_config.NumberColumn("minimum"),
            "maximum": st.column_config.NumberColumn("maximum"),
            "minLength": st.column_config.NumberColumn("minLength", min_value=0, step=1),
            "maxLength": st.column_config.NumberColumn("maxLength", min_value=0, step=1),
            "pattern": st.column_config.TextColumn("pattern", help="A regular expression"),
            "format": st.column_config.TextColumn(
                "format", help="date-time, date, time, email, uri, uuid, …"),
            KEY: None,
        },
    )
    for child in tree:
        if child.depth == level.depth + 1 and child.path[:len(level.path)] == level.path:
            with st.container(border=True):
                _table(editor_id, version, params, tree, child)
