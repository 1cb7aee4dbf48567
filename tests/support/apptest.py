"""Helpers the AppTest page tests share: run, ask, the conversation, and the page as text."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.types import Message


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


def run(at: AppTest) -> AppTest:
    """Run the page; a Streamlit exception element fails the test at once."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, text: str) -> AppTest:
    at.chat_input(key="chat.input").set_value(text)
    return run(at)


def messages(at: AppTest) -> list[Message]:
    return at.session_state["chat.state"].conversation.messages
