"""Keep the open chat and the database in step: restore from ?session=, save as it happens."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import streamlit as st
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from components import state, storage
from components.storage import store
from components.untrusted import code
from core.config import PRESETS, preset_for_url
from core.conversation import fresh_copy, pending_tool_calls
from core.store import NotYourSession, SessionConflict, Store, title_for
from core.types import ChatSettings, ToolSpec

log = logging.getLogger("toolsmith")


def restore_from_url() -> None:
    """Open the session named by ?session=, with its own settings. Runs before the sidebar is
    drawn (app.py), so the settings can go into its widgets."""
    wanted = state.requested_session()
    if not wanted:
        return
    db = store()
    kept = storage.stashed(wanted)  # saved in memory while the database could not take it
    if kept is not None:
        state.open_session(kept)
        return
    if db is None:
        return
    try:
        conversation = db.load(wanted)
        drafts = db.result_drafts(wanted) if conversation is not None else {}
        row = db.session_row(wanted) if conversation is not None else None
    except SQLAlchemyError as exc:
        state.chat().notice = ("warning", f"Session {code(wanted)} could not be loaded "
                                          f"({exc.__class__.__name__}).")
        return
    if conversation is None:
        state.chat().notice = ("warning", f"No saved session {code(wanted)}: it may have been "
                                          "deleted. This is a new chat.")
        st.query_params.pop("session", None)
        return
    row = row or {}
    saved = _json_object(row.get("settings_json"))
    recorded = recorded_server(row, saved)
    fresh = state.sidebar_untouched()
    state.open_session(conversation, drafts, recorded,
                       branched_from=row.get("branched_from"))
    state.restore_settings(saved, _tool_names(row.get("tools_json")),
                           recorded if fresh and recorded.can_return else None)


def recorded_server(row: dict[str, Any], saved: dict[str, Any]) -> state.RecordedServer:
    """Where a stored session's requests went, from its row and stored settings."""
    provider = str(row.get("provider") or "")
    wire = str(saved.get("wire_format") or saved.get("wire") or "openai")
    base_url = str(saved.get("base_url") or "")
    preset = str(saved.get("preset") or "")
    if provider == "demo":
        preset = "demo"
    elif not preset and base_url:
        preset = preset_for_url(base_url, wire)
    if preset not in PRESETS:
        preset = ""
    return state.RecordedServer(provider=provider, model=str(row.get("model") or ""),
                                preset=preset, base_url=base_url, wire=wire)


def _json_object(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _tool_names(text: Any) -> list[str] | None:
    """The names of the tools a session sent (kept in its wire format's shape: `name` at the
    top, or under `function`), None if unknown."""
    try:
        tools = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(tools, list):
        return None
    names = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else tool.get("name")
        if isinstance(name, str):
            names.append(name)
    return names


def keep_result_draft(call_id: str) -> None:
    """Widget callback: a typed tool result (and its error switch) kept in the session and in
    the database, so a refresh or a server restart does not lose it."""
    _store_draft(call_id, *state.save_result_draft(call_id))


def keep_typed_draft(call_id: str, keeper_key: str) -> None:
    """Callback of components.typed_keeper: the text of a result box as typed, kept as its
    draft (the box itself is left alone: it holds what is being typed)."""
    value = (st.session_state.get(keeper_key) or {}).get("text")
    pending = {c.id for c in pending_tool_calls(state.chat().conversation.messages)}
    if isinstance(value, str) and call_id in pending:  # not a result sent meanwhile
        _store_draft(call_id, *state.keep_typed(call_id, value))


def use_canned_result(call_id: str, text: str, label: str | None = None) -> None:
    """Widget callback: a canned result put into its box, kept like a typed one (one named
    "error" ticks the error switch)."""
    _store_draft(call_id, *state.use_canned_result(call_id, text, label))


def _store_draft(call_id: str, text: str, is_error: bool) -> None:
    db = store()
    if db is None:
        return
    try:
        db.save_result_draft(state.chat().conversation.id, call_id, text, is_error)
    except SQLAlchemyError as exc:  # it stays in this browser session
        log.error("saving a typed tool result failed: %s", exc.__class__.__name__)
        st.toast("The typed result could not be saved to history; it stays in this tab.",
                 icon=":material/save:")


@dataclass
class SessionWriter:
    """Saves the open conversation with the settings of the request being made. Holds what it
    needs up front and works on the ChatState object itself, so it can still save after
    Streamlit refuses st.* calls and session state (a tab closed while an answer streamed)."""

    db: Store | None
    session: dict[str, Any]

    def write(self, chat: state.ChatState) -> None:
        """Write what is new; a failure becomes the chat's notice, never raised."""
        if not chat.conversation.messages:
            return
        if self.db is None:  # broken or read-only (the banner says so): keep it in memory
            storage.stash(chat.conversation)
            return
        try:
            try:
                self.db.record(chat.conversation, branched_from=chat.branched_from,
                               **self.session)
            except (SessionConflict, IntegrityError) as conflict:
                # Another tab continued the stored session (or it is a teammate's shared
                # one; IntegrityError: two tabs saved the same position at once): keep this
                # tab's messages as a fork with fresh ids (the stored ones belong to the other
                # tab's history, or to the teammate).
                fork = fresh_copy(chat.conversation)
                title = (f"{title_for(fork)} (your fork of a shared session)"
                         if isinstance(conflict, NotYourSession) else
                         f"{title_for(fork)} (fork: another tab continued the session)")
                self.db.record(fork, title=title, **self.session)
                state.take_fork(chat, fork)
                for call_id, text in chat.result_drafts.items():
                    self.db.save_result_draft(fork.id, call_id, text,
                                              chat.result_errors.get(call_id, False))
        except SQLAlchemyError as exc:
            log.error("saving the session failed: %s", exc.__class__.__name__)
            storage.stash(chat.conversation)
            chat.notice = ("warning", f"This chat could not be saved to history "
                           f"({exc.__class__.__name__}); it stays open here, and a reload "
                           "keeps it while the server runs.")


def writer(settings: ChatSettings, tools: list[ToolSpec]) -> SessionWriter:
    """A writer for the open session with these settings (never a key: ChatSettings holds
    none, and the endpoint adds only where requests go)."""
    endpoint = state.endpoint()
    safe_settings = asdict(settings)
    safe_settings.update(base_url=endpoint.base_url, preset=endpoint.preset,
                         wire_format=endpoint.wire,  # the shape the tools below are kept in
                         max_tokens=settings.max_tokens or None)  # 0: the server's default
    session = {"provider": endpoint.provider, "model": settings.model,
               "settings": safe_settings,
               "tools": [endpoint.format.tool_to_wire(t) for t in tools]}
    return SessionWriter(storage.writable_store(), session)


def save(settings: ChatSettings, tools: list[ToolSpec]) -> None:
    """Write what is new in the open conversation; a failure is shown, never raised."""
    writer(settings, tools).write(state.chat())
    notice = state.take_notice()  # said now: this run is alive
    if notice:
        st.warning(notice[1], icon=":material/save:")
    state.mark_session_in_url()


def render_shared_notice() -> None:
    """Team mode: a teammate's shared session is read-only here; Fork makes it the viewer's
    own (sending a message does the same: what it adds goes into the viewer's fork)."""
    db = store()
    chat = state.chat()
    if db is None or db.owner is None or not chat.conversation.messages:
        return
    row = db.session_row(chat.conversation.id)
    if row is None or row.get("owner") == db.owner:
        return
    note, button = st.columns([5, 1], vertical_alignment="center")
    note.info(f"Shared by **{row.get('owner') or 'someone'}** — read-only: your typed results "
              "stay in this tab, and sending a message continues in your own copy. Their "
              "session stays as it is.", icon=":material/link:")
    last = chat.conversation.messages[-1].id
    button.button("Fork to my sessions", key="chat.fork_shared", icon=":material/call_split:",
                  on_click=fork_shared, args=(chat.conversation.id, last))


def fork_shared(session_id: str, upto_message_id: str) -> None:
    """Callback: a copy of a teammate's shared session, owned by the viewer, opened here."""
    db = storage.writable_store()
    if db is None:
        return
    try:
        fork_id = db.fork(session_id, upto_message_id)
        conversation = db.load(fork_id)
    except (SQLAlchemyError, KeyError) as exc:
        log.error("forking a shared session failed: %s", exc.__class__.__name__)
        st.toast("The shared session could not be forked; nothing was changed.",
                 icon=":material/block:")
        return
    if conversation is not None:
        state.open_session(conversation)
        state.mark_session_in_url()


def render_fork_notice() -> None:
    """A lasting note (for as long as this conversation is open) when a save found the
    session continued in another tab and this tab's messages were kept as a fork."""
    render_shared_notice()
    chat = state.chat()
    if not chat.fork_of:
        return
    old, new = chat.fork_of, chat.conversation.id
    st.warning(f"Session {code(old)} was continued in another tab meanwhile, so this tab's "
               f"conversation, with your latest message, is saved as a new session "
               f"{code(new)}. Both are kept: [the other tab's version](?session={quote(old)}) · "
               f"[this one](?session={quote(new)}) (also in History).", icon=":material/tab:")


def truncate(keep: int) -> None:
    """The open session's stored messages end at `keep` (an answer is being asked again)."""
    db = store()
    if db is None:
        return
    try:
        db.truncate(state.chat().conversation.id, keep)
    except SQLAlchemyError as exc:
        log.error("truncating the session failed: %s", exc.__class__.__name__)
