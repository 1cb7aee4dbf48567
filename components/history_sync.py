"""Keep the open chat and the database in step: restore from ?session=, save as it happens."""

from __future__ import annotations

import logging
from dataclasses import asdict

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components import state, storage
from components.storage import store
from core.conversation import fresh_copy
from core.store import SessionConflict, title_for
from core.types import ChatSettings, ToolSpec

log = logging.getLogger("toolsmith")


def restore_from_url() -> None:
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
        st.warning(f"Session {wanted} could not be loaded ({exc.__class__.__name__}).")
        return
    if conversation is None:
        st.warning(f"No saved session {wanted!r}: it may have been deleted. This is a new chat.")
        st.query_params.pop("session", None)
        return
    recorded = (row.get("provider") or "", row.get("model") or "") if row else None
    state.open_session(conversation, drafts, recorded)


def keep_result_draft(call_id: str) -> None:
    """Widget callback: a typed tool result (and its error switch) kept in the session and in
    the database, so a refresh or a server restart does not lose it."""
    _store_draft(call_id, *state.save_result_draft(call_id))


def use_canned_result(call_id: str, text: str) -> None:
    """Widget callback: a canned result put into its box, kept like a typed one."""
    _store_draft(call_id, *state.use_canned_result(call_id, text))


def _store_draft(call_id: str, text: str, is_error: bool) -> None:
    db = store()
    if db is None:
        return
    try:
        db.save_result_draft(state.chat().conversation.id, call_id, text, is_error)
    except SQLAlchemyError as exc:  # it stays in this browser session
        log.error("saving a typed tool result failed: %s", exc.__class__.__name__)
        st.toast("The typed result could not be saved to history; it stays in this tab.",
                 icon="💾")


def save(settings: ChatSettings, tools: list[ToolSpec]) -> None:
    """Write what is new in the open conversation; a failure is shown, never raised."""
    db = storage.writable_store()
    chat = state.chat()
    if not chat.conversation.messages:
        return
    if db is None:  # broken or read-only (the banner says so): keep it in memory instead
        storage.stash(chat.conversation)
        state.mark_session_in_url()
        return
    endpoint = state.endpoint()
    safe_settings = asdict(settings)  # ChatSettings holds no secrets
    safe_settings["base_url"] = endpoint.base_url
    safe_settings["wire_format"] = endpoint.wire  # the shape the tools below are kept in
    session = {"provider": endpoint.provider, "model": settings.model,
               "settings": safe_settings,
               "tools": [endpoint.format.tool_to_wire(t) for t in tools]}
    try:
        try:
            db.record(chat.conversation, **session)
        except SessionConflict:
            # Another tab continued the stored session: keep this tab's messages as a fork
            # with fresh ids (the stored ones belong to the other tab's history).
            fork = fresh_copy(chat.conversation)
            title = f"{title_for(fork)} (fork: another tab continued the session)"
            db.record(fork, title=title, **session)
            state.fork_after_conflict(fork)
            for call_id, text in chat.result_drafts.items():
                db.save_result_draft(fork.id, call_id, text, chat.result_errors.get(call_id,
                                                                                    False))
    except SQLAlchemyError as exc:
        log.error("saving the session failed: %s", exc.__class__.__name__)
        storage.stash(chat.conversation)
        st.warning(f"This chat could not be saved to history ({exc.__class__.__name__}); it "
                   "stays open here, and a reload keeps it while the server runs.", icon="💾")
    state.mark_session_in_url()


def render_fork_notice() -> None:
    """A lasting note (for as long as this conversation is open) when a save found the
    session continued in another tab and this tab's messages were kept as a fork."""
    chat = state.chat()
    if not chat.fork_of:
        return
    old, new = chat.fork_of, chat.conversation.id
    st.warning(f"Session `{old}` was continued in another tab meanwhile, so this tab's "
               f"conversation, with your latest message, is saved as a new session `{new}`. "
               f"Both are kept: [the other tab's version](?session={old}) · "
               f"[this one](?session={new}) (also in History).", icon="🪟")


def truncate(keep: int) -> None:
    """The open session's stored messages end at `keep` (an answer is being asked again)."""
    db = store()
    if db is None:
        return
    try:
        db.truncate(state.chat().conversation.id, keep)
    except SQLAlchemyError as exc:
        log.error("truncating the session failed: %s", exc.__class__.__name__)
