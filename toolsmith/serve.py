"""`python -m toolsmith.serve [Streamlit options]`: the app's server, as `make run` starts it.

Streamlit imports a page's modules when the first person opens it, so on a fresh server the
first visit of each page waited for pandas, SQLAlchemy, Altair, the tokenizer's vocabulary and
the rest (bench/pages.py: 1.7-2.6x a hello-world page on a quiet machine, most of it imports).
This runs `streamlit run app.py` and, meanwhile, loads them on a background thread, so the
first visit finds them loaded. Only framework-free modules are loaded early: `core` and the
libraries; pages and components are Streamlit's to import inside a script run.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
# What the Chat page (the default) needs first; pandas and the rest, for Evals and Usage, after.
FIRST = ("sqlalchemy", "httpx", "jsonschema", "ruamel.yaml", "yaml", "pygments")
THEN = ("pandas", "pyarrow", "altair")
LATE_CORE = ("core.usage", "core.evals", "core.tools.mcp_client")  # pandas; the MCP SDK
log = logging.getLogger("toolsmith")


def core_modules() -> list[str]:
    import core

    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def warm_up() -> None:
    """Import what the pages use, and load the tokenizer's vocabulary (its first use costs
    ~0.3 s). A failure here only means the first visit pays as before."""
    core = core_modules()
    late = [m for m in core if m.startswith(LATE_CORE)]
    early = [m for m in core if m not in late]
    for name in [*FIRST, *early, *THEN, *late]:
        try:
            importlib.import_module(name)
        except Exception:  # an optional extra that is not installed, say: the page says why
            log.debug("warm-up: %s not loaded", name, exc_info=True)
    _load_vocabulary()


def _load_vocabulary() -> None:
    try:
        from core.tools.token_count import text_tokens

        text_tokens("warm")
    except Exception:
        log.debug("warm-up: tokenizer not loaded", exc_info=True)


def main(argv: list[str] | None = None) -> int:
    threading.Thread(target=warm_up, name="toolsmith-warm-up", daemon=True).start()
    from streamlit.web import cli

    args = ["run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    try:
        cli.main(args=args, prog_name="streamlit")
    except SystemExit as done:
        return int(done.code or 0) if isinstance(done.code, int) or done.code is None else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
