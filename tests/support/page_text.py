"""What an AppTest page would send to a browser, as one string (for searching it for keys)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def rendered_text(at: AppTest) -> str:
    """Everything the page would send to a browser: every element and widget value."""
    parts: list[str] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        try:
            value = getattr(node, "value", None)
        except Exception:  # some element kinds have no readable value
            value = None
        if value is not None:
            parts.append(str(value))
    return "\n".join(parts)
