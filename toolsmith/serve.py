"""`python -m toolsmith.serve [Streamlit options]`: the app's server, as `make run` starts it.

Streamlit imports a page's modules when the first person opens it, so on a fresh server the
first visit waited for SQLAlchemy, httpx, jsonschema, pandas, the tokenizer and Toolsmith's
own core (bench/pages.py). This runs `streamlit run app.py` and loads those on a background
thread: the Chat page's as soon as the server answers, the rest once the first page is drawn
or nobody is there (toolsmith/warmup.py says when and why in that order).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from toolsmith import warmup

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> None:
    """Run the server; Streamlit's command line exits the process with its own code."""
    # Streamlit first, then the thread: both importing it at once could find it half
    # initialised ("cannot import name 'Runtime'"), which ended one start in a few hundred.
    from streamlit.web import cli

    threading.Thread(target=warmup.run, name="toolsmith-warm-up", daemon=True).start()

    cli.main(args=["run", str(APP), *(sys.argv[1:] if argv is None else argv)],
             prog_name="streamlit")


if __name__ == "__main__":
    main()
