"""The tool editor: text (YAML or JSON) validated on every change, a parameter form, and the
Save / Revert / Duplicate / Delete / Make strict actions."""

from __future__ import annotations

import difflib
from functools import partial
from typing import Any

import streamlit as st

from components import state, tool_form, tool_generate, tool_state
from components.code_editor import code_editor
from components.untrusted import code, text
from core.tools import locate
from core.tools.library import LibraryEntry
from core.tools.roundtrip import strict_rewrite
from core.tools.schemas import (
    FORMATS,
    Problem,
    dropped_by_make_strict,
    parse_text,
    strict_document,
    strict_problems,
    tool_from_data,
)


def render(entries: list[LibraryEntry], *, with_form: bool = True) -> None:
    tool_generate.form()
    by_id = {e.path.stem: e for e in entries}
    drafts = tool_state.tool_drafts()
    options = [*by_id, *(d for d in drafts if d not in by_id and drafts[d].origin is None)]
    top, new = st.columns([5, 1], vertical_alignment="bottom")
    new.button("New tool", key="tools.new", on_click=tool_state.new_tool, icon=":material/add:")
    editor_id = tool_state.selected_tool(options[0] if options else "new-1")
    if editor_id not in options:
        options.append(editor_id)
    top.selectbox("Tool to edit", options, key="tools.editor.selected", on_change=state.keep,
                  args=("tools.editor.selected",),
                  format_func=lambda i: f"{i} (new, unsaved)" if i not in by_id else i)
    entry = by_id.get(editor_id)
    if entry is not None and not entry.source and entry.problems:
        st.error(f"{code(entry.path.name)} cannot be opened: "
                 + "; ".join(text(p) for p in entry.problems)
                 + ". Fix or remove the file outside Toolsmith; it is left untouched here.",
                 icon=":material/description:")
        return
    draft = tool_state.draft_for(editor_id, entry)
    data, parse_errors = parse_text(draft.text, draft.fmt)  # once per rerun, used throughout
    spec, problems = tool_from_data(data, parse_errors)
    taken = {e.spec.name for e in entries if e.spec and e.path != draft.origin}
    if spec is not None and spec.name in taken:  # checked as typed, not only on Save
        problems = [*problems, Problem(
            f"another tool in the library is already named {spec.name!r}; names must be "
            "unique", "/name")]
    unsaved = tool_state.draft_unsaved(draft)
    if unsaved:
        st.warning("Unsaved changes — they are kept while you switch pages, but not written "
                   "to the library until you Save.", icon=":material/edit:")

    st.segmented_control("Format", list(FORMATS), key=tool_state.editor_fmt_key(editor_id),
                         format_func=str.upper, on_change=tool_state.on_format_change,
                         args=(editor_id,), required=True)
    _checks(spec, problems)
    code_editor(
        key=tool_state.editor_key(editor_id), text=draft.text, fmt=draft.fmt,
        revision=draft.revision,
        marks=[m.as_dict() for m in locate.marks(draft.text, draft.fmt, problems,
                                                  parsed=not parse_errors)],
        on_text=partial(tool_state.on_editor_text, editor_id),
        on_action=partial(tool_state.on_editor_action, editor_id, taken),
    )
    tool_generate.outcome(editor_id)

    cols = st.columns(5)
    cols[0].button("Save", key="tools.save", type="primary",
                   disabled=spec is None or spec.name in taken,
                   on_click=tool_state.save_tool_draft, args=(editor_id, taken),
                   icon=":material/save:")
    cols[1].button("Revert", key="tools.revert", disabled=not unsaved,
                   on_click=tool_state.revert_tool, args=(editor_id,))
    cols[2].button("Duplicate", key="tools.duplicate", on_click=tool_state.duplicate_tool,
                   args=(editor_id, {e.name for e in entries}))
    cols[3].button("Delete", key="tools.delete", disabled=draft.origin is None,
                   on_click=tool_state.ask_delete, args=(editor_id,))
    # Offered whenever the text is a mapping, not only for a valid tool: strict-mode
    # problems are exactly what keep a `strict: true` tool from being valid.
    strictable = not parse_errors and isinstance(data, dict) and isinstance(
        data.get("parameters", {}), dict)
    show_strict = cols[4].toggle("Make strict…", key=f"tools.strict_preview.{editor_id}",
                                 disabled=not strictable)
    if tool_state.confirm_delete_pending(editor_id) and draft.origin is not None:
        with st.container(border=True):
            st.error(f"Delete {code(draft.origin.name)} from the library? This cannot be undone.")
            yes, no = st.columns(2)
            yes.button("Yes, delete", key="tools.delete_yes", on_click=tool_state.delete_tool_file,
                       args=(editor_id,))
            no.button("Cancel", key="tools.delete_no", on_click=tool_state.cancel_delete)
    if show_strict and strictable:
        _strict_preview(editor_id, draft.text, draft.fmt, data)
    if with_form:
        tool_form.render(editor_id, draft, None if parse_errors else data)


def _checks(spec: object, problems: list[Problem]) -> None:
    """One line of verdict; the problems themselves are marked in the editor and listed under
    it (each a click away from its place in the text)."""
    errors = [p for p in problems if p.severity == "error"]
    if not problems and spec is not None:
        st.success("Valid: a JSON Schema with type object, and a name and description every "
                   "provider accepts.", icon=":material/check_circle:")
    elif errors:
        st.error(f"{len(errors)} problem{'s' if len(errors) != 1 else ''}: this tool cannot be "
                 "saved, enabled or sent until they are fixed (marked in the text and listed "
                 "under it).", icon=":material/block:")
    else:
        st.warning(f"{len(problems)} warning{'s' if len(problems) != 1 else ''}, marked in the "
                   "text and listed under it.", icon=":material/warning:")


@st.cache_data(max_entries=16, show_spinner=False)
def _strict_text(text: str, fmt: str, data: dict[str, Any]) -> str:
    """Make strict's text (a round-trip edit takes ~0.1 s; the preview redraws on every rerun
    while it is open)."""
    return strict_rewrite(text, fmt, data)  # type: ignore[arg-type]


def _strict_preview(editor_id: str, text: str, fmt: str, data: dict[str, Any]) -> None:
    strict = strict_document(data)
    rewritten = _strict_text(text, fmt, data)
    remaining = strict_problems(strict["parameters"])
    dropped = dropped_by_make_strict(data.get("parameters") or {})
    with st.container(border=True):
        if rewritten == text:
            st.success("Already strict: nothing to change.")
            return
        st.markdown("**Make strict** would change the definition like this:")
        diff = difflib.unified_diff(text.splitlines(), rewritten.splitlines(), "current",
                                    "strict", lineterm="")
        st.code("\n".join(diff), language="diff")
        if dropped:
            st.warning("Strict mode does not accept these keywords, so Make strict removes "
                       "them (describe the rule in the description instead): "
                       + ", ".join(code(p) for p in dropped))
        for problem in remaining:
            st.warning(text(problem))
        st.button("Apply", key="tools.strict_apply", on_click=tool_state.apply_strict,
                  args=(editor_id,))
