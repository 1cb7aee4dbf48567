"""The session store, opened once per server process (its connection pool is shared)."""

from __future__ import annotations

import logging
import os
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.store import Store, default_url

log = logging.getLogger("toolsmith")


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


def store() -> Store | None:
    """The store, or None (with the reason logged and shown) when the database cannot open."""
    try:
        return _open(database_url())
    except (SQLAlchemyError, OSError) as exc:
        log.error("database unavailable: %s", exc.__class__.__name__)
        st.warning("Session history is off: the database could not be opened "
                   f"({exc.__class__.__name__}). Chats still work but are not saved. Check "
                   "TOOLSMITH_DATABASE_URL / TOOLSMITH_DATA_DIR.", icon="💾")
        return None
