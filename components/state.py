"""The one place that touches st.session_state.

Everything a page needs to remember between reruns lives in a few typed objects here, so the
rest of the code reads plain Python values and widget keys are named in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import Endpoint, initial_endpoint
from core.conversation import Conversation
from core.errors import ToolsmithError
from core.providers.openai_compat import ChatSettings
from core.schemas import LibraryEntry, load_library
from core.turn import TurnResult
from core.types import ToolCall, ToolSpec

TOOLS_DIR = Path(__file__).resolve().parent.parent / "tools"


@dataclass
class TurnError:
    """The last failed request, kept until Retry, a new message or New chat."""

    message: str
    detail: str
    kind: str
    status: int | None
    exchange_id: str

    @classmethod
    def of(cls, error: ToolsmithError, exchange_id: str) -> TurnError:
        return cls(error.message, error.detail, error.kind, error.status, exchange_id)


@dataclass
class ChatState:
    conversation: Conversation = field(default_factory=Conversation)
    error: TurnError | None = None
    result_drafts: dict[str, str] = field(default_factory=dict)
    shown_messages: int = 40
    pending_action: str | None = None  # "send" | "results" | "retry", set by callbacks


def chat() -> ChatState:
    if "chat.state" not in st.session_state:
        st.session_state["chat.state"] = ChatState()
    return st.session_state["chat.state"]


def new_chat() -> None:
    """Start over; the typed results of the old chat go with it."""
    old = chat()
    for call_id in old.result_drafts:
        st.session_state.pop(result_key(call_id), None)
    st.session_state["chat.state"] = ChatState()


def result_key(call_id: str) -> str:
    return f"chat.result.{call_id}"


def save_result_draft(call_id: str) -> None:
    """Widget callback: keep what was typed, even when the widget is not rendered for a while."""
    chat().result_drafts[call_id] = st.session_state.get(result_key(call_id), "")


def restore_result_widget(call_id: str) -> None:
    key = result_key(call_id)
    if key not in st.session_state:
        st.session_state[key] = chat().result_drafts.get(call_id, "")


def request(action: str) -> None:
    """Widget callback: remember which action the next run should carry out."""
    chat().pending_action = action


def take_action() -> str | None:
    state = chat()
    action, state.pending_action = state.pending_action, None
    return action


# --- Where requests go -------------------------------------------------------------------

def _secrets() -> dict[str, Any]:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets.toml, or one that does not parse: treat as empty
        return {}


def startup_endpoint() -> Endpoint:
    """The endpoint configured by secrets or environment, resolved once per browser session."""
    if "conn.initial" not in st.session_state:
        st.session_state["conn.initial"] = initial_endpoint(os.environ, _secrets())
    return st.session_state["conn.initial"]


def api_key() -> str:
    """The key typed in the sidebar, else the configured one. Never put into a widget."""
    return st.session_state.get("conn.typed_key") or startup_endpoint().api_key


def key_source() -> str:
    if st.session_state.get("conn.typed_key"):
        return "typed in this browser session"
    if startup_endpoint().api_key:
        return "from OPENAI_API_KEY (environment or secrets)"
    return ""


def take_typed_key() -> None:
    """Widget callback: move the typed key out of the widget so it is never sent back."""
    typed = st.session_state.get("sidebar.api_key", "").strip()
    if typed:
        st.session_state["conn.typed_key"] = typed
    st.session_state["sidebar.api_key"] = ""


def forget_key() -> None:
    st.session_state.pop("conn.typed_key", None)


def set_endpoint(endpoint: Endpoint) -> None:
    st.session_state["conn.endpoint"] = endpoint


def endpoint() -> Endpoint:
    return st.session_state.get("conn.endpoint") or startup_endpoint()


def model_list(base_url: str) -> list[str]:
    return st.session_state.get("conn.models", {}).get(base_url, [])


def set_model_list(base_url: str, models: list[str]) -> None:
    st.session_state.setdefault("conn.models", {})[base_url] = models


# --- Tools ---------------------------------------------------------------------------------

def library() -> list[LibraryEntry]:
    return load_library(TOOLS_DIR)


def enabled_tool_names(entries: list[LibraryEntry]) -> set[str]:
    """Tools sent with each request; every valid library tool is enabled at first."""
    if "tools.enabled" not in st.session_state:
        st.session_state["tools.enabled"] = {e.spec.name for e in entries if e.spec}
    return st.session_state["tools.enabled"]


def set_tool_enabled(name: str) -> None:
    """Widget callback for the per-tool switch on the Tools page."""
    enabled = st.session_state["tools.enabled"]
    if st.session_state.get(f"tools.enable.{name}"):
        enabled.add(name)
    else:
        enabled.discard(name)


def enabled_tools() -> list[ToolSpec]:
    entries = library()
    enabled = enabled_tool_names(entries)
    return [e.spec for e in entries if e.spec and e.spec.name in enabled]


# --- Chat flow helpers -------------------------------------------------------------------------

def show_more() -> None:
    chat().shown_messages += 40


def typed_results(calls: list[ToolCall]) -> dict[str, str]:
    drafts = chat().result_drafts
    return {c.id: st.session_state.get(result_key(c.id), drafts.get(c.id, "")) for c in calls}


def clear_results(calls: list[ToolCall]) -> None:
    drafts = chat().result_drafts
    for call in calls:
        drafts.pop(call.id, None)


def record_turn(result: TurnResult) -> None:
    """Keep the exchange; append the answer, or remember the error for the Retry box."""
    state = chat()
    state.conversation.exchanges[result.exchange.id] = result.exchange
    if result.message is not None:
        state.conversation.messages.append(result.message)
        state.error = None
    elif result.error is not None:
        state.error = TurnError.of(result.error, result.exchange.id)


def set_settings(value: ChatSettings) -> None:
    st.session_state["conn.settings"] = value


def settings() -> ChatSettings:
    return st.session_state.get("conn.settings") or ChatSettings(model=endpoint().model)
