"""The session store, opened once per server process (its connection pool is shared), and what
the app does when it cannot be used: a lasting banner with the reason and the place, reading
when only writing fails, and the open conversation kept in memory so a reload keeps it."""

from __future__ import annotations

import copy
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components.untrusted import code, text
from core.conversation import Conversation
from core.store import Store, default_url, sqlite_file

log = logging.getLogger("toolsmith")
STASH_SIZE = 200  # conversations kept in memory while the database cannot take them


def database_url() -> str:
    """TOOLSMITH_DATABASE_URL, else [connections.sql] url in secrets, else the SQLite file."""
    if os.environ.get("TOOLSMITH_DATABASE_URL"):
        return os.environ["TOOLSMITH_DATABASE_URL"]
    try:
        configured: Any = st.secrets.get("connections", {}).get("sql", {}).get("url")
    except Exception:  # no secrets file, or one that does not parse
        configured = None
    return str(configured) if configured else default_url()


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Store:
    return Store.open(url)


def store_for(url: str) -> Store:
    return _open(url)


@dataclass(frozen=True)
class DatabaseStatus:
    store: Store | None
    where: str  # the file, or the URL without its password
    problem: str = ""  # why history is off or read-only; "" when all is well


def _where(url: str) -> str:
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say so without echoing it (it may hold a password)
        return "TOOLSMITH_DATABASE_URL (not a valid URL)"


def status() -> DatabaseStatus:
    """The store and, when it cannot be used as usual, why (for the banner)."""
    try:
        url = database_url()
    except OSError as exc:  # the data directory cannot even be created
        return DatabaseStatus(None, "TOOLSMITH_DATA_DIR", f"{type(exc).__name__}: {exc}")
    where = _where(url)
    try:
        db = _open(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        log.error("database unavailable: %s", exc.__class__.__name__)
        return DatabaseStatus(None, where, f"{type(reason).__name__}: {str(reason)[:200]}")
    if db.read_only:
        return DatabaseStatus(db, where, "the file cannot be written (read-only)")
    return DatabaseStatus(db, where)


def store() -> Store | None:
    """The store, or None when the database cannot be opened (the banner says why). In team
    mode it is the signed-in user's view: their own sessions, typed results and eval runs."""
    db = status().store
    return None if db is None else scoped(db)


def scoped(db: Store) -> Store:
    from components import team  # here: team reads the secrets through components.state

    who = team.current()
    if who is None:  # team mode without a viewer: nothing is anyone's
        return db.as_owner("")
    return db.as_owner(who.user, all_usage=who.admin) if who.team else db


def writable_store() -> Store | None:
    """The store when it can take writes; None when it cannot (broken or read-only)."""
    db = store()
    return None if db is None or db.read_only else db


def banner() -> None:
    """Shown on every page, every run, while the database is not fully usable."""
    found = status()
    if not found.problem:
        return
    kept = ("New chats are not saved; the open conversation is kept in this server's memory, "
            "so reloading this page keeps it while the server runs.")
    if found.store is not None:
        st.warning(f"Session history is read-only: {code(found.where, 500)} — "
                   f"{text(found.problem)}. Saved "
                   f"sessions can be read. {kept} Make the file writable, or point "
                   "TOOLSMITH_DATA_DIR elsewhere, to save again.", icon=":material/save:")
    else:
        st.error(f"Session history is off: the database at {code(found.where, 500)} could "
                 f"not be opened — {text(found.problem)}. {kept} Repair or move the file, or set "
                 "TOOLSMITH_DATA_DIR / TOOLSMITH_DATABASE_URL.", icon=":material/save:")


@st.cache_resource(show_spinner=False)
def _stash() -> OrderedDict[str, Conversation]:
    return OrderedDict()


def _stash_key(session_id: str) -> str:
    """A stashed conversation is its author's: in team mode keyed by who is signed in too."""
    from components import team

    who = team.current()
    if who is not None and not who.team:
        return session_id
    return f"{who.user if who else ''}\n{session_id}"


def stash(conversation: Conversation) -> None:
    """Keep a copy of a conversation the database could not take, by its session id."""
    kept = _stash()
    key = _stash_key(conversation.id)
    kept[key] = copy.deepcopy(conversation)
    kept.move_to_end(key)
    while len(kept) > STASH_SIZE:
        kept.popitem(last=False)


def stashed(session_id: str) -> Conversation | None:
    found = _stash().get(_stash_key(session_id))
    return copy.deepcopy(found) if found is not None else None
