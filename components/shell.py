"""A net that keeps tracebacks off the page (they go to the server log instead)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

log = logging.getLogger("toolsmith")


def guarded(render: Callable[[], None]) -> None:
    """Run a page body; an unexpected failure becomes a message, its traceback goes to the log."""
    try:
        render()
    except Exception:
        log.exception("Toolsmith page failed")
        st.error("Something went wrong inside Toolsmith while drawing this page. Your "
                 "conversation and typed results are kept; the details are in the server log. "
                 "Reload the page, or start a New chat if it keeps happening.",
                 icon=":material/report:")
