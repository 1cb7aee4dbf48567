"""The one place that touches st.session_state.

Everything a page needs to remember between reruns lives in a few typed objects here, so the
rest of the code reads plain Python values and widget keys are named in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import KEY_ENV, Endpoint, configured_keys, initial_endpoint
from core.conversation import Conversation
from core.errors import ToolsmithError
from core.library import LibraryEntry, delete_tool, free_name, load_library, save_tool
from core.providers.openai_compat import ChatSettings
from core.schema_form import apply_editor_delta, parameters_from_rows, rows_from_parameters
from core.schemas import Format, ToolFileError, dump_text, parse_text, parse_tool, strict_document
from core.tool_formats import keep_canned_results
from core.turn import TurnResult
from core.types import ToolCall, ToolSpec

SHIPPED_TOOLS = Path(__file__).resolve().parent.parent / "tools"


def tools_dir() -> Path:
    """The tool library folder: TOOLSMITH_TOOLS_DIR, else tools/ in the checkout."""
    return Path(os.environ.get("TOOLSMITH_TOOLS_DIR") or SHIPPED_TOOLS)


@dataclass
class TurnError:
    """The last failed request, kept until Retry, a new message or New chat."""

    message: str
    detail: str
    kind: str
    status: int | None
    exchange_id: str

    @classmethod
    def of(cls, error: ToolsmithError, exchange_id: str) -> TurnError:
        return cls(error.message, error.detail, error.kind, error.status, exchange_id)


@dataclass
class ChatState:
    conversation: Conversation = field(default_factory=Conversation)
    error: TurnError | None = None
    result_drafts: dict[str, str] = field(default_factory=dict)
    result_errors: dict[str, bool] = field(default_factory=dict)  # "This result is an error"
    shown_messages: int = 40
    pending_action: str | None = None  # "send" | "results" | "retry", set by callbacks
    recorded_with: tuple[str, str] | None = None  # (provider, model) of a reopened session


def chat() -> ChatState:
    if "chat.state" not in st.session_state:
        st.session_state["chat.state"] = ChatState()
    return st.session_state["chat.state"]


def new_chat() -> None:
    """Start over; the typed results of the old chat go with it (the old one stays in History)."""
    old = chat()
    for call_id in {*old.result_drafts, *old.result_errors}:
        st.session_state.pop(result_key(call_id), None)
        st.session_state.pop(result_error_key(call_id), None)
    st.session_state["chat.state"] = ChatState()
    st.query_params.pop("session", None)


def open_session(conversation: Conversation,
                 drafts: dict[str, tuple[str, bool]] | None = None,
                 recorded_with: tuple[str, str] | None = None) -> None:
    """Show a stored conversation, with the tool results that were typed but not sent."""
    drafts = drafts or {}
    for call_id in drafts:  # stale widget values must not hide the stored drafts
        st.session_state.pop(result_key(call_id), None)
        st.session_state.pop(result_error_key(call_id), None)
    st.session_state["chat.state"] = ChatState(
        conversation=conversation,
        result_drafts={c: text for c, (text, _) in drafts.items()},
        result_errors={c: err for c, (_, err) in drafts.items() if err},
        recorded_with=recorded_with)


def requested_session() -> str | None:
    """The session named in the URL (?session=<id>), if it is not the one already open."""
    wanted = st.query_params.get("session")
    return wanted if wanted and wanted != chat().conversation.id else None


def mark_session_in_url() -> None:
    if chat().conversation.messages:
        st.query_params["session"] = chat().conversation.id


def result_key(call_id: str) -> str:
    return f"chat.result.{call_id}"


def result_error_key(call_id: str) -> str:
    return f"chat.result_error.{call_id}"


def typed_errors(calls: list[ToolCall]) -> dict[str, bool]:
    errors = chat().result_errors
    return {c.id: bool(st.session_state.get(result_error_key(c.id), errors.get(c.id, False)))
            for c in calls}


def save_result_draft(call_id: str) -> tuple[str, bool]:
    """Keep what was typed in a result box (and its error switch), even when the widgets are
    not rendered for a while; returns (text, is error)."""
    state = chat()
    text = st.session_state.get(result_key(call_id), state.result_drafts.get(call_id, ""))
    is_error = bool(st.session_state.get(result_error_key(call_id),
                                         state.result_errors.get(call_id, False)))
    state.result_drafts[call_id] = text
    state.result_errors[call_id] = is_error
    return text, is_error


def restore_result_widget(call_id: str) -> None:
    state = chat()
    if result_key(call_id) not in st.session_state:
        st.session_state[result_key(call_id)] = state.result_drafts.get(call_id, "")
    if result_error_key(call_id) not in st.session_state:
        st.session_state[result_error_key(call_id)] = state.result_errors.get(call_id, False)


def request(action: str) -> None:
    """Widget callback: remember which action the next run should carry out."""
    chat().pending_action = action


def take_action() -> str | None:
    state = chat()
    action, state.pending_action = state.pending_action, None
    return action


# --- Where requests go -------------------------------------------------------------------

def _secrets() -> dict[str, Any]:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets.toml, or one that does not parse: treat as empty
        return {}


def startup_endpoint() -> Endpoint:
    """The endpoint configured by secrets or environment, resolved once per browser session."""
    if "conn.initial" not in st.session_state:
        st.session_state["conn.initial"] = initial_endpoint(os.environ, _secrets())
    return st.session_state["conn.initial"]


def _configured_keys() -> dict[str, str]:
    if "conn.keys" not in st.session_state:
        st.session_state["conn.keys"] = configured_keys(os.environ, _secrets())
    return st.session_state["conn.keys"]


def api_key(wire: str = "openai") -> str:
    """The key typed in the sidebar, else the one configured for the wire format. Never put
    into a widget."""
    return st.session_state.get("conn.typed_key") or _configured_keys().get(wire, "")


def key_source(wire: str = "openai") -> str:
    if st.session_state.get("conn.typed_key"):
        return "typed in this browser session"
    if _configured_keys().get(wire):
        return f"from {KEY_ENV[wire]} (environment or secrets)"
    return ""


def take_typed_key() -> None:
    """Widget callback: move the typed key out of the widget so it is never sent back."""
    typed = "".join(st.session_state.get("sidebar.api_key", "").split())
    if typed:
        st.session_state["conn.typed_key"] = typed
    st.session_state["sidebar.api_key"] = ""


def forget_key() -> None:
    st.session_state.pop("conn.typed_key", None)


def set_endpoint(endpoint: Endpoint) -> None:
    st.session_state["conn.endpoint"] = endpoint


def endpoint() -> Endpoint:
    return st.session_state.get("conn.endpoint") or startup_endpoint()


def model_list(base_url: str) -> list[str]:
    return st.session_state.get("conn.models", {}).get(base_url, [])


def set_model_list(base_url: str, models: list[str]) -> None:
    st.session_state.setdefault("conn.models", {})[base_url] = models


# --- Widgets whose values must outlive the page they are on ----------------------------------

def keep(key: str) -> None:
    """Widget callback: copy the value somewhere Streamlit does not clean up on page switches."""
    st.session_state[f"kept.{key}"] = st.session_state.get(key)


def restore(key: str, default: Any) -> None:
    """Before drawing a widget: give it back the value kept by `keep` (or the default)."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"kept.{key}", default)


def kept(key: str, default: Any) -> Any:
    return st.session_state.get(key, st.session_state.get(f"kept.{key}", default))


# --- Tools ---------------------------------------------------------------------------------

def library() -> list[LibraryEntry]:
    return load_library(tools_dir())


def enabled_tool_names(entries: list[LibraryEntry]) -> set[str]:
    """Tools sent with each request; every valid library tool is enabled at first."""
    if "tools.enabled" not in st.session_state:
        st.session_state["tools.enabled"] = {e.spec.name for e in entries if e.spec}
    return st.session_state["tools.enabled"]


def set_tool_enabled(name: str) -> None:
    """Widget callback for the per-tool switch on the Tools page."""
    enabled = st.session_state.setdefault("tools.enabled", set())
    if st.session_state.get(f"tools.enable.{name}"):
        enabled.add(name)
    else:
        enabled.discard(name)


def library_specs() -> list[ToolSpec]:
    return [e.spec for e in library() if e.spec]


def enabled_tools() -> list[ToolSpec]:
    """The valid, enabled library tools: exactly what the next request sends."""
    entries = library()
    enabled = enabled_tool_names(entries)
    return [e.spec for e in entries if e.spec and e.spec.name in enabled]


TOOL_CHOICES = ("auto", "none", "required")
PARALLEL_CHOICES = ("server default", "on", "off")


def tool_choice(tools: list[ToolSpec]) -> str | dict[str, Any] | None:
    """The tool_choice to send: None leaves it to the server ("auto" is its default)."""
    choice = kept("tools.tool_choice", "auto")
    if choice == "auto":
        return None
    if choice in TOOL_CHOICES:
        return choice
    if any(t.name == choice for t in tools):
        return {"type": "function", "function": {"name": choice}}
    return None


def parallel_tool_calls() -> bool | None:
    return {"on": True, "off": False}.get(kept("tools.parallel", "server default"))


@dataclass
class ToolDraft:
    """Text being edited for one tool, kept across reruns and page switches until saved."""

    text: str
    fmt: Format
    origin: Path | None  # the library file it came from; None for a new tool
    saved_text: str = ""  # the file's text when the draft started, to tell unsaved edits
    form_version: int = 0  # bumped to give the form a fresh widget after each applied edit


def tool_drafts() -> dict[str, ToolDraft]:
    return st.session_state.setdefault("tools.drafts", {})


# --- Chat flow helpers -------------------------------------------------------------------------

def toggle_inspect(exchange_id: str) -> None:
    current = st.session_state.get("chat.inspected")
    st.session_state["chat.inspected"] = None if current == exchange_id else exchange_id


def inspected() -> str | None:
    return st.session_state.get("chat.inspected")


def show_more() -> None:
    chat().shown_messages += 40


def typed_results(calls: list[ToolCall]) -> dict[str, str]:
    drafts = chat().result_drafts
    return {c.id: st.session_state.get(result_key(c.id), drafts.get(c.id, "")) for c in calls}


def clear_results(calls: list[ToolCall]) -> None:
    state = chat()
    for call in calls:
        state.result_drafts.pop(call.id, None)
        state.result_errors.pop(call.id, None)


def record_turn(result: TurnResult) -> None:
    """Keep the exchange; append the answer, or remember the error for the Retry box."""
    state = chat()
    state.conversation.exchanges[result.exchange.id] = result.exchange
    if result.message is not None:
        state.conversation.messages.append(result.message)
        state.error = None
    elif result.error is not None:
        state.error = TurnError.of(result.error, result.exchange.id)


def set_settings(value: ChatSettings) -> None:
    st.session_state["conn.settings"] = value


def settings() -> ChatSettings:
    return st.session_state.get("conn.settings") or ChatSettings(model=endpoint().model)


# --- Tool editor -------------------------------------------------------------------------------

NEW_TOOL_TEMPLATE = {
    "name": "new_tool",
    "description": "Say what the tool does and when the model should use it.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "What to look up"}}, "required": ["query"]},
}


def editor_text_key(editor_id: str) -> str:
    return f"tools.editor.text.{editor_id}"


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
    draft = drafts[editor_id]
    restore(editor_text_key(editor_id), draft.text)
    restore(editor_fmt_key(editor_id), draft.fmt)
    return draft


def flash(kind: str, text: str) -> None:
    st.session_state["tools.flash"] = (kind, text)


def take_flash() -> tuple[str, str] | None:
    return st.session_state.pop("tools.flash", None)


def set_draft_text(editor_id: str, text: str) -> None:
    """Callback-only: replace the draft text and the editor widget's value."""
    draft = tool_drafts()[editor_id]
    draft.text = text
    draft.form_version += 1
    st.session_state[editor_text_key(editor_id)] = text


def on_text_change(editor_id: str) -> None:
    draft = tool_drafts()[editor_id]
    draft.text = st.session_state.get(editor_text_key(editor_id), "")
    draft.form_version += 1


def on_format_change(editor_id: str) -> None:
    """Switch YAML <-> JSON by converting the document; refuse while the text does not parse."""
    draft = tool_drafts()[editor_id]
    wanted: Format = st.session_state[editor_fmt_key(editor_id)]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        st.session_state[editor_fmt_key(editor_id)] = draft.fmt
        flash("error", f"Fix the {draft.fmt.upper()} syntax first: converting text that does "
                       "not parse would lose it.")
        return
    draft.fmt = wanted
    set_draft_text(editor_id, dump_text(data, wanted))


def new_tool() -> None:
    drafts = tool_drafts()
    n = 1
    while f"new-{n}" in drafts:
        n += 1
    select_tool(f"new-{n}")


def duplicate_tool(editor_id: str, taken: set[str]) -> None:
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        flash("error", "Fix the syntax errors before duplicating.")
        return
    data["name"] = free_name(str(data.get("name") or "tool"), taken)
    new_tool()
    new_id = st.session_state["tools.editor.selected"]
    tool_drafts()[new_id] = ToolDraft(dump_text(data, draft.fmt), draft.fmt, None, "")
    flash("success", f"Duplicated as `{data['name']}` (not saved yet).")


def save_tool_draft(editor_id: str, taken_by_others: set[str]) -> None:
    draft = tool_drafts()[editor_id]
    spec, _ = parse_tool(draft.text, draft.fmt)
    if spec is None:
        flash("error", "Not saved: fix the problems listed first.")
        return
    if spec.name in taken_by_others:
        flash("error", f"Not saved: another tool is already named `{spec.name}`. Rename this "
                       "one, or edit that tool instead.")
        return
    try:
        path = save_tool(tools_dir(), spec, replaces=draft.origin,
                         yaml_text=draft.text if draft.fmt == "yaml" else None)
    except (OSError, ToolFileError) as exc:
        flash("error", f"Not saved: {exc}")
        return
    old_name = draft.origin.stem if draft.origin else None
    enabled = st.session_state.setdefault("tools.enabled", set())
    if old_name in enabled or draft.origin is None:
        enabled.discard(old_name)
        enabled.add(spec.name)
    saved = path.read_text(encoding="utf-8")
    del tool_drafts()[editor_id]
    tool_drafts()[path.stem] = ToolDraft(draft.text, draft.fmt, path, saved)
    st.session_state[editor_text_key(path.stem)] = draft.text
    st.session_state[editor_fmt_key(path.stem)] = draft.fmt
    select_tool(path.stem)
    flash("success", f"Saved `{path.name}`.")


def revert_tool(editor_id: str) -> None:
    draft = tool_drafts().pop(editor_id)
    st.session_state.pop(editor_text_key(editor_id), None)
    st.session_state.pop(f"kept.{editor_text_key(editor_id)}", None)
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
    cancel_delete()
    if draft is None or draft.origin is None:
        return
    delete_tool(draft.origin)
    st.session_state.get("tools.enabled", set()).discard(draft.origin.stem)
    revert_tool(editor_id)
    st.session_state.pop("tools.editor.selected", None)
    st.session_state.pop("kept.tools.editor.selected", None)
    flash("success", f"Deleted `{draft.origin.name}`.")


def apply_form_edit(editor_id: str, form_key: str) -> None:
    """Callback of the parameter table: rebuild the schema from the edited rows."""
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict):
        return
    params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    rows = apply_editor_delta(rows_from_parameters(params), st.session_state.get(form_key) or {})
    data["parameters"] = parameters_from_rows(rows, params)
    set_draft_text(editor_id, dump_text(data, draft.fmt))


def apply_strict(editor_id: str) -> None:
    draft = tool_drafts()[editor_id]
    data, problems = parse_text(draft.text, draft.fmt)
    if problems or not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        return
    set_draft_text(editor_id, dump_text(strict_document(data), draft.fmt))
    flash("success", "Rewritten for strict mode. Review, then Save.")


# --- Canned results ----------------------------------------------------------------------------

def use_canned_result(call_id: str, text: str) -> tuple[str, bool]:
    """Put a canned result into a result box; returns (text, is error) like save_result_draft."""
    st.session_state[result_key(call_id)] = text
    return save_result_draft(call_id)


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
    """
    by_name = {e.name: e for e in library() if e.spec}
    try:
        for spec in specs:
            old = by_name.get(spec.name)
            save_tool(tools_dir(), keep_canned_results(spec, old.spec if old else None),
                      replaces=old.path if old else None)
    except (OSError, ToolFileError) as exc:
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
