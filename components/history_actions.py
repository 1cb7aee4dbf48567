"""Callbacks of the History page: each calls the store, then leaves a message for the page."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components import state
from components.storage import store
from components.untrusted import text
from core.session_io import SessionFileError, dumps, export_session, import_session
from core.store import Store

PAGE_SIZE = 50


def selected() -> str | None:
    return st.session_state.get("history.selected")


def select(session_id: str) -> None:
    current = selected()
    st.session_state["history.selected"] = None if current == session_id else session_id


def shown() -> int:
    return st.session_state.get("history.shown", PAGE_SIZE)


def show_more() -> None:
    st.session_state["history.shown"] = shown() + PAGE_SIZE


def _guard(action: str, work) -> bool:
    db = store()
    if db is None:
        return False
    try:
        work(db)
    except SQLAlchemyError as exc:
        state.flash("error", f"{action} failed: the database answered "
                             f"{exc.__class__.__name__}. Nothing was changed.")
        return False
    except KeyError:
        state.flash("error", f"{action} failed: that session no longer exists.")
        return False
    return True


def open_in_chat(session_id: str) -> None:
    st.session_state["history.open"] = session_id


def pending_open() -> str | None:
    return st.session_state.pop("history.open", None)


def export_text(session_id: str, db: Store | None = None) -> str:
    """The session as an export file; `db`: the viewer's store, bound while the page ran
    (a deferred download runs where the signed-in user cannot be looked up)."""
    db = db or store()
    if db is None:
        return ""
    return dumps(export_session(db, session_id))


def rename(session_id: str, title_key: str) -> None:
    """Callback: the title is read from its widget now, not bound when the button was drawn."""
    title = str(st.session_state.get(title_key, ""))
    if _guard("Rename", lambda db: db.rename(session_id, title)):
        state.flash("success", f"Renamed to “{text(title.strip() or 'Untitled session')}”.")


def fork(session_id: str, message_id: str) -> None:
    created: list[str] = []
    if _guard("Fork", lambda db: created.append(db.fork(session_id, message_id))):
        st.session_state["history.selected"] = created[0]
        state.flash("success", f"Forked into a new session `{created[0]}` (listed first).")


def share(session_id: str, toggle_key: str) -> None:
    """Callback: share the session with the team, or stop sharing it."""
    on = bool(st.session_state.get(toggle_key))
    if _guard("Share", lambda db: db.set_shared(session_id, on)):
        state.flash("success", "Shared: signed-in teammates can open the link and fork it."
                    if on else "No longer shared.")


def share_link(session_id: str) -> str:
    """The address teammates open (this server's, as the browser reached it)."""
    try:
        base = str(st.context.url or "").split("?", 1)[0].rstrip("/")
    except AttributeError:
        base = ""
    base = base.rsplit("/history", 1)[0] if base.endswith("/history") else base
    return f"{base}/?session={session_id}"


def ask_delete(session_id: str) -> None:
    st.session_state["history.confirm_delete"] = session_id


def cancel_delete() -> None:
    st.session_state.pop("history.confirm_delete", None)


def delete_pending(session_id: str) -> bool:
    return st.session_state.get("history.confirm_delete") == session_id


def delete(session_id: str) -> None:
    cancel_delete()
    if _guard("Delete", lambda db: db.delete(session_id)):
        if state.chat().conversation.id == session_id:
            state.new_chat()
        state.flash("success", "Session deleted.")


def import_file(data: bytes) -> None:
    """Callback of Import: the result is said by the uploader, which is emptied on success."""
    created: list[str] = []
    try:
        ok = _guard("Import", lambda db: created.append(import_session(db, data)))
    except SessionFileError as exc:
        state.flash("error", f"Not imported: {text(exc)}. Nothing was changed.",
                    where="import")
        return
    if ok:
        state.clear_uploader("history.import_file")
        state.flash("success", f"Imported as session `{created[0]}`.",
                    where="import")
    else:  # _guard left its message for the top of the page: move it here
        failed = state.take_flash()
        if failed:
            state.flash(*failed, where="import")
