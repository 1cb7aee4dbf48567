"""Session state of the Tools page: drafts of tools being edited, the editor's actions
(save, revert, duplicate, delete, Make strict, form edits) and imports into the library.

Split from components/state.py, which keeps what every page shares; widget keys of the
Tools page are named here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components import own_tools, team
from components.state import flash, library, restore, tools_dir
from core.tools.form import (
    apply_editor_delta,
    duplicate_names,
    object_at,
    object_from_rows,
    rows_from_object,
    with_object_at,
)
from core.tools.formats import keep_canned_results
from core.tools.library import RUN_IS_ADMINS, LibraryEntry, delete_tool, free_name, save_tool
from core.tools.roundtrip import rewrite, strict_rewrite
from core.tools.schemas import (
    EMPTY_PARAMETERS,
    FORMATS,
    Format,
    ToolFileError,
    dump_text,
    parse_text,
    parse_tool,
)
from core.types import Exchange, ToolSpec


@dataclass
class ToolDraft:
    """Text being edited for one tool, kept across reruns and page switches until saved."""

    text: str
    fmt: Format
    origin: Path | None  # the library file it came from; None for a new tool
    saved_text: str = ""  # the file's text when the draft started, to tell unsaved edits
    form_version: int = 0  # bumped to give the form a fresh widget after each applied edit
    revision: int = 0  # set anew whenever Python rewrites the text, so the editor adopts it
    yaml_shadow: str = ""  # the YAML as it was when switched to JSON: its comments and layout
    #                        come back on the way back to YAML and in the file saved from JSON
    typed: str | None = None  # the editor's text last taken in (None: this draft not shown yet,
    #                           so whatever the editor holds was typed over an older draft)


def tool_drafts() -> dict[str, ToolDraft]:
    return st.session_state.setdefault("tools.drafts", {})


NEW_TOOL_TEMPLATE = {
    "name": "new_tool",
    "description": "Say what the tool does and when the model should use it.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "What to look up"}}, "required": ["query"]},
}


def editor_key(editor_id: str) -> str:
    """The code editor component's key (its state: the typed `text`)."""
    return f"tools.editor.code.{editor_id}"


def _next_revision() -> int:
    """A number no earlier text of any draft had: the editor in the browser replaces its text
    when the revision it is given differs from the one it holds (Revert, then a fresh draft of
    the same tool, must still count as new)."""
    st.session_state["tools.editor.revisions"] = st.session_state.get(
        "tools.editor.revisions", 0) + 1
    return st.session_state["tools.editor.revisions"]


def editor_fmt_key(editor_id: str) -> str:
    return f"tools.editor.fmt.{editor_id}"


def selected_tool(default: str) -> str:
    restore("tools.editor.selected", default)
    return st.session_state["tools.editor.selected"]


def select_tool(editor_id: str) -> None:
    """Callback: open a tool in the editor (from the library's Edit buttons)."""
    st.session_state["tools.editor.selected"] = editor_id
    st.session_state["kept.tools.editor.selected"] = editor_id
    show_tools_tab("Editor")


TOOLS_TABS = ("Library", "Editor", "Import / export")


def show_tools_tab(label: str) -> None:
    """Switch the Tools page to one of its tabs (they are stateful: messages appearing above
    them, reruns and page switches keep the one the user is on)."""
    st.session_state["tools.tab"] = label
    st.session_state["kept.tools.tab"] = label


def draft_for(editor_id: str, entry: LibraryEntry | None) -> ToolDraft:
    drafts = tool_drafts()
    if editor_id not in drafts:
        if entry is not None:
            drafts[editor_id] = ToolDraft(entry.source, "yaml", entry.path, entry.source)
        else:
            text = dump_text(NEW_TOOL_TEMPLATE, "yaml")
            drafts[editor_id] = ToolDraft(text, "yaml", None, "")
        drafts[editor_id].revision = _next_revision()
    draft = drafts[editor_id]
    if draft.typed is None:
        draft.typed = _editor_text(editor_id) or ""
    key = editor_fmt_key(editor_id)
    restore(key, draft.fmt)
    if st.session_state[key] not in FORMATS:  # the switch shows the draft's (on_format_change)
        st.session_state[key] = draft.fmt
    return draft


def set_draft_text(editor_id: str, text: str) -> None:
    """Callback-only: replace the draft text; the editor adopts it (a new revision)."""
    draft = tool_drafts()[editor_id]
    draft.text = text
    draft.form_version += 1
    draft.revision = _next_revision()


def _editor_text(editor_id: str) -> str | None:
    value = (st.session_state.get(editor_key(editor_id)) or {}).get("text")
    return value if isinstance(value, str) else None


def _typed_text(editor_id: str, value: object) -> None:
    draft = tool_drafts().get(editor_id)
    if draft is not None and isinstance(value, str) and value != draft.text:
        draft.text = value
        draft.form_version += 1


def take_typed(editor_id: str) -> None:
    """Take in the text the editor last sent, once. Every action on a draft calls this first:
    text typed just before a click (sent when the editor loses focus) arrives in the same rerun
    as the click, and Streamlit runs the button's callback before the editor's, so without it
    Save wrote the text from before the edit. A value already taken, or one typed over an
    older draft (Revert, a rewrite), is not taken again: it would undo what the action did."""
    draft = tool_drafts().get(editor_id)
    value = _editor_text(editor_id)
    if draft is None or draft.typed is None or value is None or value == draft.typed:
        return
    draft.typed = value
    _typed_text(editor_id, value)


def on_editor_text(editor_id: str) -> None:
    """Callback of the code editor: the text as typed (sent while typing, debounced)."""
    take_typed(editor_id)


def on_editor_action(editor_id: str, taken_by_others: set[str]) -> None:
    """Callback of the editor's keys: Ctrl+S saves, Ctrl+Enter checks (the rerun does)."""
    action = (st.session_state.get(editor_key(editor_id)) or {}).get("action")
    take_typed(editor_id)
    if not isinstance(action, dict):
        return
    _typed_text(editor_id, action.get("text"))
    if action.get("kind") == "save":
        save_tool_draft(editor_id, taken_by_others)


def on_format_change(editor_id: str) -> None:
    """Switch YAML <-> JSON by converting the document; refuse while the text does not parse."""
    take_typed(editor_id)
    draft = tool_drafts()[editor_id]
    wanted = st.session_state.get(editor_fmt_key(editor_id))
    if wanted not in FORMATS:
        # The control reported no choice (it cannot be cleared; Streamlit sends an empty value
        # when a rerun races its first draw, about one Tools visit in five in Chromium). Taken
        # as a switch, the draft's format became None and the next typed text was YAML under
        # JSON: it stays a no-op.
        st.session_state[editor_fmt_key(editor_id)] = draft.fmt
        return
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        st.session_state[editor_fmt_key(editor_id)] = draft.fmt
        flash("error", f"Fix the {draft.fmt.upper()} syntax first: converting text that does "
                       "not parse would lose it.")
        return
    if wanted == draft.fmt:
        return
    if wanted == "json":
        draft.yaml_shadow = draft.text
        text = rewrite(draft.text, "json", data)
    else:
        text = rewrite(draft.yaml_shadow, "yaml", data)
    draft.fmt = wanted
    set_draft_text(editor_id, text)


def new_tool() -> None:
    drafts = tool_drafts()
    n = 1
    while f"new-{n}" in drafts:
        n += 1
    select_tool(f"new-{n}")


def duplicate_tool(editor_id: str, taken: set[str]) -> None:
    take_typed(editor_id)
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        flash("error", "Fix the syntax errors before duplicating.")
        return
    data["name"] = free_name(str(data.get("name") or "tool"), taken)
    new_tool()
    new_id = st.session_state["tools.editor.selected"]
    tool_drafts()[new_id] = ToolDraft(rewrite(draft.text, draft.fmt, data), draft.fmt, None, "",
                                      revision=_next_revision(), yaml_shadow=draft.yaml_shadow)
    flash("success", f"Duplicated as `{data['name']}` (not saved yet).")


def save_tool_draft(editor_id: str, taken_by_others: set[str]) -> None:
    own = own_tools.folder()  # team mode, not an admin: one's own tools (in the database)
    if not team.is_admin() and own is None:
        flash("error", team.admin_only("tool library (tools/)"))
        return
    take_typed(editor_id)
    draft = tool_drafts()[editor_id]
    spec, _ = parse_tool(draft.text, draft.fmt)
    if spec is None:
        flash("error", "Not saved: fix the problems listed first.")
        return
    if spec.name in taken_by_others:
        flash("error", f"Not saved: another tool is already named `{spec.name}`. Rename this "
                       "one, or edit that tool instead.")
        return
    # JSON only when the draft says JSON, as parse_tool reads it (anything else was parsed as
    # YAML above): a draft whose format was not exactly "yaml" was written as `null`.
    yaml_text = rewrite(draft.yaml_shadow, "yaml", parse_text(draft.text, "json")[0]) \
        if draft.fmt == "json" else draft.text
    try:
        # A shared tool saved by someone who is not an admin becomes their own version.
        replaces = draft.origin if own is None or own_tools.holds(draft.origin) else None
        path = save_tool(own or tools_dir(), spec, replaces=replaces, yaml_text=yaml_text,
                         programs=own is None)
        if own is not None:
            own_tools.keep(path, replaces)
    except (OSError, ToolFileError, SQLAlchemyError) as exc:
        flash("error", f"Not saved: {exc}")
        return
    old_name = draft.origin.stem if draft.origin else None
    enabled = st.session_state.setdefault("tools.enabled", set())
    if old_name in enabled or draft.origin is None:
        enabled.discard(old_name)
        enabled.add(spec.name)
    saved = path.read_text(encoding="utf-8")
    del tool_drafts()[editor_id]
    tool_drafts()[path.stem] = ToolDraft(draft.text, draft.fmt, path, saved,
                                         revision=draft.revision)
    st.session_state[editor_fmt_key(path.stem)] = draft.fmt
    select_tool(path.stem)
    flash("success", f"Saved `{path.name}`.")


def revert_tool(editor_id: str) -> None:
    draft = tool_drafts().pop(editor_id)
    st.session_state.pop(editor_fmt_key(editor_id), None)
    st.session_state.pop(f"kept.{editor_fmt_key(editor_id)}", None)
    if draft.origin is None:
        st.session_state.pop("tools.editor.selected", None)
        st.session_state.pop("kept.tools.editor.selected", None)


def ask_delete(editor_id: str) -> None:
    st.session_state["tools.confirm_delete"] = editor_id


def cancel_delete() -> None:
    st.session_state.pop("tools.confirm_delete", None)


def confirm_delete_pending(editor_id: str) -> bool:
    return st.session_state.get("tools.confirm_delete") == editor_id


def delete_tool_file(editor_id: str) -> None:
    draft = tool_drafts().get(editor_id)
    mine = draft is not None and own_tools.holds(draft.origin)
    if not team.is_admin() and not mine:
        flash("error", team.admin_only("tool library (tools/)"))
        return
    cancel_delete()
    if draft is None or draft.origin is None:
        return
    delete_tool(draft.origin)
    if mine:
        own_tools.forget(draft.origin)
    st.session_state.get("tools.enabled", set()).discard(draft.origin.stem)
    revert_tool(editor_id)
    st.session_state.pop("tools.editor.selected", None)
    st.session_state.pop("kept.tools.editor.selected", None)
    flash("success", f"Deleted `{draft.origin.name}`.")


def form_key(editor_id: str, version: int, part: str) -> str:
    """Key of a form widget: fresh after every applied edit (`version`), so it shows the text."""
    return f"tools.form.{editor_id}.{version}.{part}"


def _stale_form_widget(editor_id: str, key: str) -> bool:
    """A form box drawn for an older text of the draft. While a rerun redraws the page, the
    previous run's boxes stay on screen; their (unchanged) values come with the next click and,
    their state being gone, count as changes: applying them would put the old description
    back over what was typed in the editor since."""
    draft = tool_drafts().get(editor_id)
    return draft is None or not key.startswith(f"tools.form.{editor_id}.{draft.form_version}.")


def _edit_document(editor_id: str, change: Callable[[dict[str, Any]], str | None]) -> None:
    """Apply `change` to the parsed draft and write it back into the text in place; `change`
    returns an error to show instead, or None."""
    take_typed(editor_id)
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        flash("error", "Not applied: the text does not parse. Fix it first.")
        return
    error = change(data)
    if error:
        flash("error", error)
        return
    set_draft_text(editor_id, rewrite(draft.text, draft.fmt, data))


def apply_meta_edit(editor_id: str, field: str, key: str) -> None:
    """Callback of the form's name and description boxes."""
    if _stale_form_widget(editor_id, key):
        return
    value = st.session_state.get(key)

    def change(data: dict[str, Any]) -> None:
        data[field] = value

    _edit_document(editor_id, change)


def apply_form_edit(editor_id: str, key: str, path: tuple[str, ...]) -> None:
    """Callback of a table of the form: rebuild that object of the schema from its rows."""
    if _stale_form_widget(editor_id, key):
        return

    def change(data: dict[str, Any]) -> str | None:
        params = data.get("parameters", dict(EMPTY_PARAMETERS))
        schema = object_at(params, path) if isinstance(params, dict) else None
        if not isinstance(schema, dict):
            return "Not applied: that part of the schema is no longer in the text."
        rows = apply_editor_delta(rows_from_object(schema), st.session_state.get(key) or {})
        twice = duplicate_names(rows)
        if twice:
            flash("error", "Two rows are named " + ", ".join(f"`{n}`" for n in twice) + ": "
                  "only the first of each is kept. Rename the other to keep it.")
        data["parameters"] = with_object_at(params, path, object_from_rows(rows, schema))
        return None

    _edit_document(editor_id, change)


def apply_strict(editor_id: str) -> None:
    take_typed(editor_id)
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict) or not isinstance(data.get("parameters", {}), dict):
        return
    set_draft_text(editor_id, strict_rewrite(draft.text, draft.fmt, data))
    flash("success", "Rewritten for strict mode. Review, then Save.")


def unsaved_editor_for(name: str, entries: list[LibraryEntry]) -> str | None:
    """The editor id holding unsaved edits of the library tool called `name`, if any."""
    entry = next((e for e in entries if e.spec and e.name == name), None)
    if entry is None:
        return None
    editor_id = entry.path.stem
    draft = tool_drafts().get(editor_id)
    return editor_id if draft is not None and draft_unsaved(draft) else None


def draft_unsaved(draft: ToolDraft) -> bool:
    """True when the draft says something its file does not (a format switch alone does not)."""
    if draft.origin is None:
        return True
    current, problems = parse_text(draft.text, draft.fmt)
    saved, _ = parse_text(draft.saved_text, "yaml")
    return bool(problems) or current != saved


def import_tools(specs: list[ToolSpec]) -> None:
    """Callback: write imported tools into the library, each replacing its same-named tool.

    A replaced tool's file is the one that held it, whatever its file name, so the library is
    never left with two tools of one name; an open draft of it is closed (the preview warned).
    In team mode someone who is not an admin imports into their own tools.
    """
    own = own_tools.folder()
    if not team.is_admin() and own is None:
        flash("error", team.admin_only("tool library (tools/)"))
        return
    refused = [s.name for s in specs if own is not None and s.run is not None]
    if refused:  # checked first: an import is all or nothing
        flash("error", f"Nothing imported: {', '.join(refused)} — {RUN_IS_ADMINS}.")
        return
    by_name = {e.name: e for e in library() if e.spec}
    try:
        for spec in specs:
            old = by_name.get(spec.name)
            replaces = old.path if old and (own is None or own_tools.holds(old.path)) else None
            path = save_tool(own or tools_dir(),
                             keep_canned_results(spec, old.spec if old else None),
                             replaces=replaces, programs=own is None)
            if own is not None:
                own_tools.keep(path, replaces)
    except (OSError, ToolFileError, SQLAlchemyError) as exc:
        flash("error", f"Import stopped: {exc}")
        return
    enabled = st.session_state.setdefault("tools.enabled", set())
    enabled.update(spec.name for spec in specs)
    for spec in specs:  # an open draft of a replaced tool would hide what was imported
        old = by_name.get(spec.name)
        editor_id = old.path.stem if old else spec.name
        if editor_id in tool_drafts():
            revert_tool(editor_id)
        moved = old is not None and old.path.stem != spec.name  # it now lives in {name}.yaml
        if moved and st.session_state.get("tools.editor.selected") == editor_id:
            st.session_state["tools.editor.selected"] = spec.name
            st.session_state["kept.tools.editor.selected"] = spec.name
    st.session_state["tools.import_text"] = ""
    st.session_state["kept.tools.import_text"] = ""
    flash("success", f"Imported {len(specs)} tool(s): " + ", ".join(s.name for s in specs))


# --- Generate: a tool drafted by the model from a description -----------------------------------

GENERATE_DESCRIPTION = "tools.generate.description"
GENERATE_EXAMPLE = "tools.generate.example"


@dataclass
class GenerateClick:
    """A Generate click, noted on an object the button was drawn with and kept until its
    request has been made: Streamlit can end a run, callbacks included, at any session-state
    access (components/state.py, ChatState.request), which lost a click noted there."""

    asked: bool = False

    def ask(self) -> None:
        """Callback of Generate: the request runs in the page (it shows a spinner)."""
        self.asked = True


def generate_click() -> GenerateClick:
    return st.session_state.setdefault("tools.generate.click", GenerateClick())


def draft_wanted() -> tuple[str, str]:
    """What Generate was asked to draft: the description and the example, as typed."""
    return (str(st.session_state.get(GENERATE_DESCRIPTION) or "").strip(),
            str(st.session_state.get(GENERATE_EXAMPLE) or ""))


def open_generated(text: str, exchange: Exchange) -> str:
    """Open a drafted definition as a new, unsaved tool in the editor; returns its editor id.
    The request's exchange is kept for its 🔍 (and is in the database for the Usage page)."""
    new_tool()
    editor_id = st.session_state["tools.editor.selected"]
    tool_drafts()[editor_id] = ToolDraft(text, "yaml", None, "", revision=_next_revision())
    st.session_state.setdefault("tools.generate.exchanges", {})[editor_id] = exchange
    return editor_id


def generated_by(editor_id: str) -> Exchange | None:
    """The Generate request that drafted this tool, if one did."""
    return st.session_state.get("tools.generate.exchanges", {}).get(editor_id)
