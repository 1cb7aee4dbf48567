"""Session state every page shares: the chat, the connection, the library's switches.

What a page needs to remember between reruns lives in a few typed objects and named widget
keys here (and, for the Tools page's editor, in components/tool_state.py), so the rest of the
code reads plain Python values.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import Endpoint, configured_keys, initial_endpoint
from core.conversation import Conversation
from core.key_scope import belongs, key_homes, origin
from core.tools.library import LibraryEntry, load_library
from core.turn import TurnResult
from core.types import ChatSettings, ToolCall, ToolSpec
from core.wire import names as wire_names
from core.wire import wire_format
from core.wire.errors import ToolsmithError

SHIPPED_TOOLS = Path(__file__).resolve().parent.parent / "tools"


def tools_dir() -> Path:
    """The tool library folder: TOOLSMITH_TOOLS_DIR, else tools/ in the checkout."""
    return Path(os.environ.get("TOOLSMITH_TOOLS_DIR") or SHIPPED_TOOLS)


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


# Messages drawn in full: about two screens of recent turns; older ones are a click away
# ("Show earlier messages"), so a long session reruns as fast as a short one.
SHOWN_AT_ONCE = 24


@dataclass
class ChatState:
    conversation: Conversation = field(default_factory=Conversation)
    error: TurnError | None = None
    result_drafts: dict[str, str] = field(default_factory=dict)
    result_errors: dict[str, bool] = field(default_factory=dict)  # "This result is an error"
    shown_messages: int = SHOWN_AT_ONCE
    pending_action: str | None = None  # "send" | "results" | "retry", set by callbacks
    recorded_with: tuple[str, str] | None = None  # (provider, model) of a reopened session
    fork_of: str | None = None  # the session another tab continued, so this one was forked


def chat() -> ChatState:
    if "chat.state" not in st.session_state:
        st.session_state["chat.state"] = ChatState()
    return st.session_state["chat.state"]


def new_chat() -> None:
    """Start over; the typed results of the old chat go with it (the old one stays in History)."""
    old = chat()
    _forget_boxes({*old.result_drafts, *old.result_errors})
    st.session_state["chat.state"] = ChatState()
    st.query_params.pop("session", None)


def fork_after_conflict(fork: Conversation) -> str:
    """This tab's conversation is now `fork` (fresh ids), because another tab continued the
    stored session; returns the id of the session it was forked from."""
    current = chat()
    old = current.conversation.id
    current.conversation = fork
    current.fork_of = old
    return old


def open_session(conversation: Conversation,
                 drafts: dict[str, tuple[str, bool]] | None = None,
                 recorded_with: tuple[str, str] | None = None) -> None:
    """Show a stored conversation, with the tool results that were typed but not sent."""
    drafts = drafts or {}
    _forget_boxes(drafts)  # stale widget values must not hide the stored drafts
    st.session_state["chat.state"] = ChatState(
        conversation=conversation,
        result_drafts={c: text for c, (text, _) in drafts.items()},
        result_errors={c: err for c, (_, err) in drafts.items() if err},
        recorded_with=recorded_with)


def requested_session() -> str | None:
    """The session named in the URL (?session=<id>), if it is not the one already open."""
    wanted = st.query_params.get("session")
    return wanted if wanted and wanted != chat().conversation.id else None


def mark_session_in_url() -> None:
    if chat().conversation.messages:
        st.query_params["session"] = chat().conversation.id


def result_key(call_id: str) -> str:
    return f"chat.result.{call_id}"


def result_error_key(call_id: str) -> str:
    return f"chat.result_error.{call_id}"


def _forget_boxes(call_ids: Iterable[str]) -> None:
    """Drop the widget values of these calls' result boxes and error switches."""
    for call_id in call_ids:
        st.session_state.pop(result_key(call_id), None)
        st.session_state.pop(result_error_key(call_id), None)


def typed_errors(calls: list[ToolCall]) -> dict[str, bool]:
    errors = chat().result_errors
    return {c.id: bool(st.session_state.get(result_error_key(c.id), errors.get(c.id, False)))
            for c in calls}


def save_result_draft(call_id: str) -> tuple[str, bool]:
    """Keep what was typed in a result box (and its error switch), even when the widgets are
    not rendered for a while; returns (text, is error)."""
    state = chat()
    text = st.session_state.get(result_key(call_id), state.result_drafts.get(call_id, ""))
    is_error = bool(st.session_state.get(result_error_key(call_id),
                                         state.result_errors.get(call_id, False)))
    state.result_drafts[call_id] = text
    state.result_errors[call_id] = is_error
    return text, is_error


def restore_result_widget(call_id: str) -> None:
    state = chat()
    if result_key(call_id) not in st.session_state:
        st.session_state[result_key(call_id)] = state.result_drafts.get(call_id, "")
    if result_error_key(call_id) not in st.session_state:
        st.session_state[result_error_key(call_id)] = state.result_errors.get(call_id, False)


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


def secrets() -> dict[str, Any]:
    """The secrets file as a dict ({} when there is none or it does not parse)."""
    return _secrets()


def startup_endpoint() -> Endpoint:
    """The endpoint configured by secrets or environment, resolved once per browser session."""
    if "conn.initial" not in st.session_state:
        st.session_state["conn.initial"] = initial_endpoint(os.environ, _secrets())
    return st.session_state["conn.initial"]


def _configured_keys() -> dict[str, str]:
    if "conn.keys" not in st.session_state:
        st.session_state["conn.keys"] = configured_keys(os.environ, _secrets())
    return st.session_state["conn.keys"]


def _typed_keys() -> dict[str, str]:
    """Keys typed in the sidebar, one per key variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, …),
    so a key meant for one server never goes to another; formats that share a variable (both
    OpenAI formats) share the key, as the SDKs do."""
    return st.session_state.setdefault("conn.typed_keys", {})


def api_key(key_env: str = "OPENAI_API_KEY", base_url: str | None = None) -> str:
    """The key typed in the sidebar for this key variable (a wire format's name is read as
    its key variable), else the one configured under it — the configured one only for
    `base_url`s of the origin it was configured with, or that the user chose to reuse it
    for (core.key_scope). Never put into a widget."""
    if key_env in wire_names():
        key_env = wire_format(key_env).key_env
    typed = _typed_keys().get(key_env)
    if typed:
        return typed
    if base_url is not None and key_withheld(key_env, base_url):
        return ""
    return _configured_keys().get(key_env, "")


def _key_homes() -> dict[str, str]:
    if "conn.key_homes" not in st.session_state:
        st.session_state["conn.key_homes"] = key_homes(os.environ, _secrets())
    return st.session_state["conn.key_homes"]


def key_withheld(key_env: str, base_url: str) -> str:
    """The base URL the configured key belongs to, when it is not sent to `base_url`; ""
    when it is sent (or there is none, or a typed key replaces it)."""
    if _typed_keys().get(key_env) or not _configured_keys().get(key_env):
        return ""
    home = _key_homes().get(key_env, "")
    if belongs(home, base_url) or origin(base_url) in _key_reuse().get(key_env, set()):
        return ""
    return home


def _key_reuse() -> dict[str, set[str]]:
    return st.session_state.setdefault("conn.key_reuse", {})


def reuse_key(key_env: str, base_url: str) -> None:
    """Widget callback: the user chose to send the configured key to this origin too."""
    _key_reuse().setdefault(key_env, set()).add(origin(base_url))
    st.session_state["conn.models_error"] = ""


def key_source(key_env: str = "OPENAI_API_KEY", base_url: str | None = None) -> str:
    if _typed_keys().get(key_env):
        return "typed in this browser session"
    if _configured_keys().get(key_env) and not (base_url and key_withheld(key_env, base_url)):
        return f"from {key_env} (environment or secrets)"
    return ""


def take_typed_key(key_env: str) -> None:
    """Widget callback: move the typed key out of the widget so it is never sent back."""
    typed = "".join(st.session_state.get("sidebar.api_key", "").split())
    if typed:
        _typed_keys()[key_env] = typed
        st.session_state["conn.models_error"] = ""  # said of the key it replaces
    st.session_state["sidebar.api_key"] = ""


def forget_key(key_env: str) -> None:
    _typed_keys().pop(key_env, None)
    st.session_state["conn.models_error"] = ""  # said of the key now gone


def set_endpoint(endpoint: Endpoint) -> None:
    st.session_state["conn.endpoint"] = endpoint


def endpoint() -> Endpoint:
    return st.session_state.get("conn.endpoint") or startup_endpoint()


def model_list(base_url: str) -> list[str]:
    return st.session_state.get("conn.models", {}).get(base_url, [])


def set_model_list(base_url: str, models: list[str]) -> None:
    st.session_state.setdefault("conn.models", {})[base_url] = models


# --- Widgets whose values must outlive the page they are on ----------------------------------

def keep(key: str) -> None:
    """Widget callback: copy the value somewhere Streamlit does not clean up on page switches."""
    st.session_state[f"kept.{key}"] = st.session_state.get(key)


def restore(key: str, default: Any) -> None:
    """Before drawing a widget: give it back the value kept by `keep` (or the default)."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"kept.{key}", default)


def kept(key: str, default: Any) -> Any:
    return st.session_state.get(key, st.session_state.get(f"kept.{key}", default))


# --- Tools ---------------------------------------------------------------------------------

def library() -> list[LibraryEntry]:
    return load_library(tools_dir())


def enabled_tool_names(entries: list[LibraryEntry]) -> set[str]:
    """Tools sent with each request; every valid library tool is enabled at first."""
    if "tools.enabled" not in st.session_state:
        st.session_state["tools.enabled"] = {e.spec.name for e in entries if e.spec}
    return st.session_state["tools.enabled"]


def set_tool_enabled(name: str) -> None:
    """Widget callback for the per-tool switch on the Tools page."""
    enabled = st.session_state.setdefault("tools.enabled", set())
    if st.session_state.get(f"tools.enable.{name}"):
        enabled.add(name)
    else:
        enabled.discard(name)


def library_specs() -> list[ToolSpec]:
    return [e.spec for e in library() if e.spec]


def enabled_tools() -> list[ToolSpec]:
    """The valid, enabled library tools and MCP server tools: what the next request sends."""
    entries = library()
    enabled = enabled_tool_names(entries)
    return [e.spec for e in entries if e.spec and e.spec.name in enabled] + _mcp_tools()


def _mcp_tools() -> list[ToolSpec]:
    """The enabled tools of connected MCP servers, sent after the library's (their switches
    and connections are kept by components/mcp_state.py)."""
    from components import mcp_state  # mcp_state imports this module
    from core.tools.mcp_tools import spec_of

    return [spec_of(tool) for tool in mcp_state.enabled_mcp_tools()]


TOOL_CHOICES = ("auto", "none", "required")
PARALLEL_CHOICES = ("server default", "on", "off")


def tool_choice(tools: list[ToolSpec]) -> str | dict[str, Any] | None:
    """The tool_choice to send: None leaves it to the server ("auto" is its default)."""
    choice = kept("tools.tool_choice", "auto")
    if choice == "auto":
        return None
    if choice in TOOL_CHOICES:
        return choice
    if any(t.name == choice for t in tools):
        return {"type": "function", "function": {"name": choice}}
    return None


def parallel_tool_calls() -> bool | None:
    return {"on": True, "off": False}.get(kept("tools.parallel", "server default"))


# --- Chat flow helpers -------------------------------------------------------------------------

def toggle_inspect(exchange_id: str) -> None:
    current = st.session_state.get("chat.inspected")
    st.session_state["chat.inspected"] = None if current == exchange_id else exchange_id


def inspected() -> str | None:
    return st.session_state.get("chat.inspected")


def show_more() -> None:
    chat().shown_messages += SHOWN_AT_ONCE


def typed_results(calls: list[ToolCall]) -> dict[str, str]:
    drafts = chat().result_drafts
    return {c.id: st.session_state.get(result_key(c.id), drafts.get(c.id, "")) for c in calls}


def clear_results(calls: list[ToolCall], *, widgets: bool = False) -> None:
    """Forget what was typed for these calls (sent, or discarded with their turn; then the
    boxes go too, since a retried turn may bring calls with the same ids)."""
    state = chat()
    for call in calls:
        state.result_drafts.pop(call.id, None)
        state.result_errors.pop(call.id, None)
    if widgets:
        _forget_boxes(c.id for c in calls)


def record_turn(result: TurnResult) -> None:
    """Keep the exchange; append the answer, or remember the error for the Retry box."""
    state = chat()
    state.conversation.exchanges[result.exchange.id] = result.exchange
    if result.message is not None:
        state.conversation.messages.append(result.message)
        state.error = None
        state.recorded_with = None  # continued with the sidebar's model from here on
    elif result.error is not None:
        state.error = TurnError.of(result.error, result.exchange.id)


def set_settings(value: ChatSettings) -> None:
    st.session_state["conn.settings"] = value


def settings() -> ChatSettings:
    return st.session_state.get("conn.settings") or ChatSettings(model=endpoint().model)


def flash(kind: str, text: str) -> None:
    st.session_state["tools.flash"] = (kind, text)


def take_flash() -> tuple[str, str] | None:
    return st.session_state.pop("tools.flash", None)


# --- Canned results ----------------------------------------------------------------------------

def use_canned_result(call_id: str, text: str) -> tuple[str, bool]:
    """Put a canned result into a result box; returns (text, is error) like save_result_draft."""
    st.session_state[result_key(call_id)] = text
    return save_result_draft(call_id)


# --- Remote images in the model's answers (components.untrusted) --------------------------------

def images_allowed(message_key: str) -> bool:
    return bool(st.session_state.get(f"untrusted.images_allowed.{message_key}"))


def allow_images(message_key: str) -> None:
    """Widget callback: the user asked to load this answer's images."""
    st.session_state[f"untrusted.images_allowed.{message_key}"] = True
