"""What the server imports before a person asks for it, in two phases (toolsmith/serve.py
starts it; app.py says when a page has been drawn).

1. As soon as Streamlit serves: the libraries and `core` modules the Chat page (the default
   page) reaches, and the tool library read once (its files are kept parsed). A browser
   opening the app spends most of a second fetching Streamlit's scripts first, and this fits
   in that time.
2. Once the first page has been drawn, or the server has sat idle for a moment with nobody
   connected or loading the page: what the other pages need on their first visit (pandas and
   pyarrow for tables and charts, the tokenizer's vocabulary for the Tools page's token
   counts, Evals and Usage's own `core` modules). Loaded any earlier, these held the
   interpreter while a browser was fetching Streamlit's scripts from this same process, or
   while a first page was being drawn (measured: app start to the Chat page 2.0x a
   hello-world app instead of 1.6x). A person who arrives before phase 2 has begun gets their
   first page drawn first, and a moment more for the browser to fetch what drawing it needs.

Only framework-free modules and libraries are loaded here: pages and components are
Streamlit's to import inside a script run. A failure only means a first visit pays as before.
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
import threading
import time
from pathlib import Path

log = logging.getLogger("toolsmith")
CHAT_LIBRARIES = ("sqlalchemy", "httpx", "jsonschema", "ruamel.yaml", "yaml", "pygments")
NOT_FOR_CHAT = ("core.usage", "core.evals", "core.tools.mcp_client")  # pandas, the MCP SDK
LATER_LIBRARIES = ("pandas", "pyarrow")
LATER_CORE = ("core.usage", "core.evals")  # not the MCP SDK: only MCP servers need it
IDLE_S = 0.1  # nobody here for this long after phase 1: phase 2 goes ahead
FIRST_PAGE_WAIT_S = 10.0  # a person's first page gets this long to be drawn first
AFTER_FIRST_PAGE_S = 1.0  # then the browser fetches the widgets' scripts from this server

_page_drawn = threading.Event()


def page_drawn() -> None:
    """Called by app.py at the end of a run (cheap): phase 2 may use the interpreter."""
    _page_drawn.set()


def _core_modules(wanted: tuple[str, ...] | None, left_out: tuple[str, ...]) -> list[str]:
    import core

    def within(name: str, packages: tuple[str, ...]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in packages)

    found = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
    return [m for m in found if not within(m, left_out)
            and (wanted is None or within(m, wanted))]


def chat_modules() -> list[str]:
    """Phase 1: the libraries, then every `core` module the Chat page's imports may reach."""
    return [*CHAT_LIBRARIES, *_core_modules(None, NOT_FOR_CHAT)]


def later_modules() -> list[str]:
    """Phase 2: the heavy libraries, then the other pages' `core` modules."""
    return [*LATER_LIBRARIES, *_core_modules(LATER_CORE, ())]


def run() -> None:
    """Both phases, on the calling (background) thread."""
    _skip_the_prompt_check()
    _wait_until_serving()
    _load(chat_modules())
    _read_library()
    _keep_out_of_collections()
    _wait_for_a_quiet_moment()
    _load(later_modules())
    _load_vocabulary()
    gc.collect()  # at this quiet moment, so no garbage of today is kept for good
    _keep_out_of_collections()


def _keep_out_of_collections() -> None:
    """Move everything loaded so far out of the cyclic garbage collector's reach: modules and
    their objects live as long as the server does. Without this, a full collection walked
    them (over 100,000 objects, 0.1 s holding the interpreter), and one came almost every
    script run: 34 full collections in 32 script runs, measured with gc.callbacks in the
    running server. The cost: what else is alive at that moment (the sessions open then) is
    freed by reference counting only, so a reference cycle among their objects, and what it
    holds, stays for the life of the server. Phase 1 freezes as the server starts,
    normally before any session exists."""
    gc.freeze()


def _skip_the_prompt_check() -> None:
    """Streamlit checks once per process, when the first page draws its first element,
    whether it runs at a Python prompt rather than under `streamlit run`: `inspect.stack()`,
    which looks up the module of every frame among all loaded modules (0.12 s with this
    app's, measured with cProfile on the first visit of /tools). This server is `streamlit
    run`, so the check is marked done (a private flag, docs/architecture.md "Streamlit
    traps"); a Streamlit without the flag just checks as before."""
    try:
        from streamlit import delta_generator

        if hasattr(delta_generator, "_use_warning_has_been_displayed"):
            delta_generator._use_warning_has_been_displayed = True
    except Exception:  # never the end of the warm-up
        log.debug("warm-up: prompt check not skipped", exc_info=True)


def _load(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # an optional extra that is not installed, say: the page says why
            log.debug("warm-up: %s not loaded", name, exc_info=True)


def _read_library() -> None:
    try:
        from core.tools.library import library_dir, load_library

        load_library(library_dir())  # ~60 ms of YAML and schema checks off the first page
    except Exception:
        log.debug("warm-up: tool library not read", exc_info=True)


def _load_vocabulary() -> None:
    try:
        from core.tools import token_count

        token_count.offline_source()  # loads and keeps the tokenizer (0.3 s), if installed
    except Exception:
        log.debug("warm-up: tokenizer not loaded", exc_info=True)


def _runtime_state() -> str | None:
    from streamlit.runtime import Runtime

    return Runtime.instance().state.name if Runtime.exists() else None


def _wait_until_serving(timeout_s: float = 60.0) -> None:
    """Until Streamlit answers health checks: run alongside the server's own start, the
    imports delayed its health answer 2.4x (bench/browser.py)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _runtime_state() in ("NO_SESSIONS_CONNECTED", "ONE_OR_MORE_SESSIONS_CONNECTED"):
            return
        time.sleep(0.02)


def _wait_for_a_quiet_moment() -> None:
    """Return once a page has been drawn, or nobody has been here for IDLE_S; a person whose
    first page is not drawn yet goes first (up to FIRST_PAGE_WAIT_S)."""
    quiet_since = time.monotonic()
    deadline = quiet_since + FIRST_PAGE_WAIT_S
    while not _page_drawn.is_set() and time.monotonic() < deadline:
        if _runtime_state() == "ONE_OR_MORE_SESSIONS_CONNECTED" or _browser_loading():
            _page_drawn.wait(0.02)
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since >= IDLE_S:
            return
        time.sleep(0.02)
    if _page_drawn.is_set():
        time.sleep(AFTER_FIRST_PAGE_S)


def _browser_loading() -> bool:
    """True while a connection to the server is open: a browser fetching Streamlit's scripts,
    the second or so before its session exists (Linux: /proc/net/tcp; elsewhere only the
    session counts). A health check closes its connection at once and does not count."""
    try:
        from streamlit import config

        port = f":{int(config.get_option('server.port')):04X}"
    except (ValueError, TypeError):
        return False
    rows = []
    for name in ("tcp", "tcp6"):  # either may be missing (no IPv6, not Linux)
        try:
            rows += [line.split()
                     for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]]
        except OSError:
            continue
    established = "01"
    return any(len(r) > 3 and r[1].endswith(port) and r[3] == established for r in rows)
