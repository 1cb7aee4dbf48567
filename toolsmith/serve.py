"""`python -m toolsmith.serve [Streamlit options]`: the app's server, as `make run` starts it.

Streamlit imports a page's modules when the first person opens it, so on a fresh server the
first visit waited for SQLAlchemy, httpx, jsonschema, ruamel and Toolsmith's own core
(bench/pages.py: the Chat page 1.6-1.7x a hello-world page on a quiet machine, most of it
imports). This runs `streamlit run app.py` and, as soon as it serves, imports what the Chat
page (the default page) needs on a background thread: a browser opening the app spends most
of a second fetching Streamlit's scripts first, and the imports fit in that time.

Only that: loading more (pandas and Altair for Evals and Usage, the tokenizer's vocabulary for
Tools) on the same thread slowed whatever the server did meanwhile, since imports hold the
interpreter: serving those scripts, or a page being drawn (measured: app start to the Chat
page 2.0x a hello-world app instead of 1.5x). Only framework-free modules are loaded early;
pages and components are Streamlit's to import inside a script run.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
LIBRARIES = ("sqlalchemy", "httpx", "jsonschema", "ruamel.yaml", "yaml", "pygments")
NOT_FOR_CHAT = ("core.usage", "core.evals", "core.tools.mcp_client")  # pandas, the MCP SDK
log = logging.getLogger("toolsmith")


def chat_modules() -> list[str]:
    """The libraries, then every `core` module the Chat page's imports may reach."""
    import core

    found = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
    return [*LIBRARIES, *(m for m in found if not m.startswith(NOT_FOR_CHAT))]


def warm_up() -> None:
    """A failure here only means the first visit pays as before."""
    _wait_until_serving()
    for name in chat_modules():
        try:
            importlib.import_module(name)
        except Exception:  # an optional extra that is not installed, say: the page says why
            log.debug("warm-up: %s not loaded", name, exc_info=True)


def _wait_until_serving(timeout_s: float = 60.0) -> None:
    """Until Streamlit answers health checks: run alongside the server's own start, the
    imports delayed its health answer 2.4x (bench/browser.py)."""
    from streamlit.runtime import Runtime, RuntimeState

    serving = {RuntimeState.NO_SESSIONS_CONNECTED, RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state in serving:
            return
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    """Run the server; Streamlit's command line exits the process with its own code."""
    # Streamlit first, then the thread: both importing it at once could find it half
    # initialised ("cannot import name 'Runtime'"), which ended one start in a few hundred.
    from streamlit.web import cli

    threading.Thread(target=warm_up, name="toolsmith-warm-up", daemon=True).start()

    cli.main(args=["run", str(APP), *(sys.argv[1:] if argv is None else argv)],
             prog_name="streamlit")


if __name__ == "__main__":
    main()
