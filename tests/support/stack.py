"""Running code the way a Streamlit script runs it: in a thread with part of its stack used."""

from __future__ import annotations

import threading
from typing import Any


def run_with_small_stack(func: Any) -> Any:
    """Call func in a thread whose stack is already 700 frames deep, as a Streamlit script is
    by the time a page parses a file: a limit that only holds with a fresh stack is no limit."""
    out: dict[str, Any] = {}

    def dig(n: int) -> None:
        if n:
            dig(n - 1)
            return
        try:
            out["value"] = func()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=dig, args=(700,))
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
