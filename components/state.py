"""Session state every page shares: the chat, the connection, the library's switches.

What a page needs to remember between reruns lives in a few typed objects and named widget
keys here (and, for the Tools page's editor, in components/tool_state.py), so the rest of the
code reads plain Python values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import Endpoint, configured_keys, initial_endpoint, preset_for_url
from core.conversation import Conversation, pending_tool_calls
from core.key_scope import belongs, key_homes, origin
from core.tools.library import LibraryEntry, library_dir, load_library
from core.turn import TurnResult
from core.types import ChatSettings, Exchange, ToolCall, ToolSpec
from core.wire import names as wire_names
from core.wire import wire_format
from core.wire.errors import ToolsmithError


def tools_dir() -> Path:
    """The tool library folder (core.tools.library.library_dir says which)."""
    return library_dir()


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
SHOWN_AT_ONCE = 12


@dataclass
class RecordedServer:
    """Where a reopened session's requests went: offered back with one click."""

    provider: str
    model: str
    preset: str = ""
    base_url: str = ""
    wire: str = ""

    def differs_from(self, endpoint: Endpoint, model: str) -> bool:
        if (self.model, self.provider) != (model, endpoint.provider):
            return True
        return bool(self.base_url) and not endpoint.is_demo \
            and self.base_url.rstrip("/") != endpoint.base_url.rstrip("/")

    @classmethod
    def of(cls, exchange: Exchange) -> RecordedServer:
        """Where this request went (the session's latest, once it is answered)."""
        preset = "demo" if exchange.provider == "demo" else preset_for_url(exchange.base_url,
                                                                          exchange.wire)
        return cls(provider=exchange.provider, model=exchange.model, preset=preset,
                   base_url=exchange.base_url, wire=exchange.wire)

    @property
    def can_return(self) -> bool:
        return bool(self.model and self.preset and (self.base_url or self.preset == "demo"))


@dataclass
class ChatState:
    conversation: Conversation = field(default_factory=Conversation)
    error: TurnError | None = None
    result_drafts: dict[str, str] = field(default_factory=dict)
    result_errors: dict[str, bool] = field(default_factory=dict)  # "This result is an error"
    shown_messages: int = SHOWN_AT_ONCE
    pending_action: str | None = None  # "send" | "results" | "retry", set by callbacks
    # The server and model of the session's latest answered request (or, reopened, as
    # stored): the page offers it back when the sidebar points elsewhere.
    recorded: RecordedServer | None = None
    # Said once on the next run: something the user must know that happened meanwhile
    # (a save that failed, a session continued in another tab, a turn stopped early).
    fork_of: str | None = None  # the session another tab continued, so this one was forked
    notice: tuple[str, str] | None = None  # (kind: "info" | "warning", text)
    # A message sent while the model waited for tool results: put back into the message box.
    held_prompt: str | None = None
    editing: str | None = None  # the id of the user message being edited in place
    # Edit, delete, re-run or branch asked for by a message's buttons: (kind, message id,
    # the edited text); carried out by the page on its next run.
    message_action: tuple[str, str, str] | None = None
    branched_from: str | None = None  # the session this one was branched from (Edit, Branch)
    expanded: set[str] = field(default_factory=set)  # long messages shown whole

    @property
    def recorded_with(self) -> tuple[str, str] | None:
        return (self.recorded.provider, self.recorded.model) if self.recorded else None

    # Buttons bind these methods of the chat they were drawn for, and the page calls them on
    # the chat it holds, instead of looking the chat up in session state: Streamlit ends a
    # run at any session-state access once another request waits (SafeSessionState yields
    # there), callbacks included, and a click whose callback ended before it was noted was
    # lost (five people sending results at once under load: a click lost in 3 runs of 8).

    def request(self, action: str) -> None:
        """Widget callback: the action the next run carries out ("results", "regenerate",
        "retry")."""
        self.pending_action = action

    def take_action(self) -> str | None:
        action, self.pending_action = self.pending_action, None
        return action

    def request_message_action(self, kind: str, message_id: str) -> None:
        """Widget callback: "delete", "rerun" or "branch" for this message, on the next run."""
        self.message_action = (kind, message_id, "")

    def start_edit(self, message_id: str, content: str) -> None:
        """Widget callback: edit this user message in place (its box starts with its text)."""
        st.session_state[edit_key(message_id)] = content  # first: ended here, nothing changed
        self.editing = message_id

    def cancel_edit(self) -> None:
        self.editing = None

    def submit_edit(self, message_id: str) -> None:
        """Widget callback: send the edited message (as a new branch of the conversation);
        its text is read from the box when the action is taken."""
        self.message_action = ("edit", message_id, "")
        self.editing = None


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
    return take_fork(chat(), fork)


def take_fork(current: ChatState, fork: Conversation) -> str:
    """fork_after_conflict on a given ChatState (usable when session state is not)."""
    old = current.conversation.id
    current.conversation = fork
    current.fork_of = old
    return old


def open_session(conversation: Conversation,
                 drafts: dict[str, tuple[str, bool]] | None = None,
                 recorded: RecordedServer | None = None,
                 branched_from: str | None = None) -> None:
    """Show a stored conversation, with the tool results that were typed but not sent (and,
    for a branch, the session it came from)."""
    drafts = drafts or {}
    _forget_boxes(drafts)  # stale widget values must not hide the stored drafts
    st.session_state["chat.state"] = ChatState(
        conversation=conversation,
        result_drafts={c: text for c, (text, _) in drafts.items()},
        result_errors={c: err for c, (_, err) in drafts.items() if err},
        recorded=recorded, branched_from=branched_from)


# --- A session's own settings, restored when it is reopened ----------------------------------

def sidebar_untouched() -> bool:
    """True in a browser session whose sidebar has not been drawn yet (a reload, a new tab):
    nothing chosen here would be overridden by restoring a session's server and model."""
    return "sidebar.preset" not in st.session_state


def restore_settings(saved: dict[str, Any], tool_names: list[str] | None,
                     server: RecordedServer | None) -> None:
    """Put a session's stored settings back into the widgets that choose them (before they are
    drawn): system prompt, sampling, streaming, the tools sent, tool_choice, the parallel
    switch and, given `server`, the server, wire format and model. Keys are never stored."""
    st.session_state["sidebar.system_prompt"] = str(saved.get("system_prompt") or "")
    temperature = saved.get("temperature")
    if isinstance(temperature, (int, float)) and 0 <= temperature <= 2:
        st.session_state["sidebar.temperature"] = float(temperature)
    max_tokens = saved.get("max_tokens")
    st.session_state["sidebar.max_tokens"] = max_tokens if isinstance(max_tokens, int) \
        and 0 <= max_tokens <= 1_000_000 else 0
    if isinstance(saved.get("stream"), bool):
        st.session_state["sidebar.stream"] = saved["stream"]
    if tool_names is not None:
        known = {s.name for s in library_specs()}
        sent = {n for n in tool_names if n in known}
        st.session_state["tools.enabled"] = sent
        for name in known:
            st.session_state[f"tools.enable.{name}"] = name in sent
    for key, value in (("tools.tool_choice", _choice_label(saved.get("tool_choice"))),
                       ("tools.parallel", {True: "on", False: "off"}.get(
                           saved.get("parallel_tool_calls"), "server default"))):
        st.session_state[key] = value
        st.session_state[f"kept.{key}"] = value
    options = saved.get("options")
    name = saved.get("wire_format") or saved.get("wire")
    if isinstance(options, dict) and name in wire_names():
        for option in wire_format(name).options:
            value = options.get(option.key)
            if value in option.choices:
                st.session_state[f"sidebar.option.{name}.{option.key}"] = value
    if server is not None:
        use_server(server)


def use_server(server: RecordedServer) -> None:
    """Choose this server, wire format and model in the sidebar (before it is drawn; also a
    widget callback: "Use <model> again")."""
    st.session_state["sidebar.preset"] = server.preset
    if server.base_url:
        st.session_state["sidebar.base_url"] = server.base_url
    if server.wire:
        st.session_state["sidebar.wire"] = server.wire
    st.session_state["sidebar.model"] = server.model


def use_recorded_server() -> None:
    """Widget callback: back to the server and model the open session was recorded with."""
    if chat().recorded is not None:
        use_server(chat().recorded)


def _choice_label(choice: Any) -> str:
    """The tool_choice widget's option for a stored tool_choice value (either wire shape)."""
    if isinstance(choice, str) and choice:
        return {"any": "required"}.get(choice, choice)
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if isinstance(name, str) and name:
            return name
        kind = choice.get("type")
        if kind in ("none", "required", "auto"):
            return kind
        if kind == "any":
            return "required"
    return "auto"


def requested_session() -> str | None:
    """The session named in the URL (?session=<id>), if it is not the one already open."""
    wanted = st.query_params.get("session")
    return wanted if wanted and wanted != chat().conversation.id else None


def mark_session_in_url() -> None:
    """The open session's link in the address (every run, every page: the navigation drops
    the query); set only when it differs, since each set sends the browser a message."""
    conversation = chat().conversation
    if conversation.messages and st.query_params.get("session") != conversation.id:
        st.query_params["session"] = conversation.id


# --- Edit, delete, re-run and branch from a message ------------------------------------------

def edit_key(message_id: str) -> str:
    return f"chat.edit.{message_id}"


def take_message_action() -> tuple[str, str, str] | None:
    """The message action asked for, if any; an edit with the text its box held (none when
    that text is blank)."""
    state = chat()
    action, state.message_action = state.message_action, None
    if action is not None and action[0] == "edit":
        text = action[2] or str(st.session_state.get(edit_key(action[1]), ""))
        return ("edit", action[1], text) if text.strip() else None
    return action


def switch_to_branch(branch: Conversation) -> str:
    """Continue in `branch` (a new session); the one it came from stays as it was, in History
    and by its link. Returns the id of the previous one."""
    state = chat()
    _forget_boxes({*state.result_drafts, *state.result_errors})
    old = state.conversation.id
    state.conversation = branch
    state.branched_from = old
    state.error = None
    state.result_drafts.clear()
    state.result_errors.clear()
    state.editing = None
    return old


def toggle_expanded(message_id: str) -> None:
    expanded = chat().expanded
    expanded.symmetric_difference_update({message_id})


def take_notice() -> tuple[str, str] | None:
    state = chat()
    notice, state.notice = state.notice, None
    return notice


def take_prompt() -> None:
    """Callback of the message box, before the run: a message sent while the model waits for
    tool results (typed as a turn ended in calls) goes back into the box instead of nowhere."""
    text = st.session_state.get("chat.input")
    if not isinstance(text, str) or not text.strip():
        return
    state = chat()
    if pending_tool_calls(state.conversation.messages):
        state.held_prompt = text
        st.session_state["chat.input"] = text  # shown in the box again, not submitted


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


def keep_typed(call_id: str, text: str) -> tuple[str, bool]:
    """A result box's text as typed (before the box hands it over): its draft, for a reload."""
    state = chat()
    state.result_drafts[call_id] = text
    is_error = bool(st.session_state.get(result_error_key(call_id),
                                         state.result_errors.get(call_id, False)))
    return text, is_error


def restore_result_widget(call_id: str) -> None:
    """Before drawing a result box: what was typed (its draft), when the box has no value or
    the browser has just made it afresh (note_page): never over text being typed."""
    state = chat()
    box, error = result_key(call_id), result_error_key(call_id)
    _give_back(box, state.result_drafts.get(call_id, st.session_state.get(box, "")))
    _give_back(error, state.result_errors.get(call_id,
                                              bool(st.session_state.get(error, False))))


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


def key_resolver() -> Callable[[str, str], str]:
    """api_key(wire, base_url) as a plain function over a snapshot of this session's keys,
    for work that runs outside the script thread (eval runs): the same rules, including that
    a configured key goes only to the base URL it belongs to."""
    typed = dict(_typed_keys())
    configured = dict(_configured_keys())
    homes = dict(_key_homes())
    reuse = {env: set(origins) for env, origins in _key_reuse().items()}

    def resolve(wire: str, base_url: str) -> str:
        env = wire_format(wire).key_env if wire in wire_names() else wire
        if typed.get(env):
            return typed[env]
        if belongs(homes.get(env, ""), base_url) or origin(base_url) in reuse.get(env, set()):
            return configured.get(env, "")
        return ""

    return resolve


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


def keep_all() -> None:
    """Every run, before the page (app.py): `keep` for each widget drawn with `restore`. The
    callback alone is not enough: Streamlit skips a run's remaining callbacks when another
    request arrives during them (a page switch right after a choice), and the value, applied
    but not kept, was then lost with the page (the parallel switch, under load)."""
    for key in list(st.session_state.get(_KEPT_KEYS, ())):
        if key in st.session_state:
            st.session_state[f"kept.{key}"] = st.session_state[key]


_KEPT_KEYS = "kept.keys"


def _kept_key(key: str) -> None:
    st.session_state.setdefault(_KEPT_KEYS, set()).add(key)


_PAGE = "nav.page"
_ARRIVED = "nav.arrived"


def note_page(title: str) -> None:
    """app.py, every run before the page is drawn: the page this run draws. A run that draws
    another page than the run before it meets a browser holding no value for this page's
    widgets (it drops them on leaving a page), even when Streamlit still has them: a text box
    left by a click in the navigation hands its text over in a rerun of the page being left,
    which arrives after the switch, and the box drawn then came back empty and sent "" over
    its draft (seen in Chromium: Chat, type a result, Tools, Chat)."""
    st.session_state[_ARRIVED] = st.session_state.get(_PAGE) != title
    st.session_state[_PAGE] = title


def arrived() -> bool:
    """True in a run that draws another page than the run before it (see note_page)."""
    return bool(st.session_state.get(_ARRIVED, True))


def restore(key: str, default: Any) -> None:
    """Before drawing a widget: give it back the value kept by `keep` (or the default); on
    arriving at its page, always, so the browser gets the value too (note_page says why)."""
    _kept_key(key)
    _give_back(key, st.session_state.get(f"kept.{key}", st.session_state.get(key, default)))


def _give_back(key: str, value: Any) -> None:
    """A widget's value set before it is drawn: when it has none, or when the browser has
    just made it afresh (note_page); never over what is being typed on the page it stays on."""
    if key not in st.session_state or arrived():
        st.session_state[key] = value


def restore_shared(key: str, default: Any) -> None:
    """Before drawing a widget that two pages draw under one key (tool_choice on Chat and
    Tools): always the kept value, since the other page's widget may hold a stale one."""
    _kept_key(key)
    st.session_state[key] = st.session_state.get(f"kept.{key}",
                                                 st.session_state.get(key, default))


def kept(key: str, default: Any) -> Any:
    """The kept value of a widget whose callback is `keep` (the latest choice on any page)."""
    return st.session_state.get(f"kept.{key}", st.session_state.get(key, default))


# --- Tools ---------------------------------------------------------------------------------

def library() -> list[LibraryEntry]:
    """The tool library: tools/, and in team mode the signed-in person's own tools (which
    shadow a shared tool of the same name: editing a shared tool makes it one's own)."""
    from components import own_tools  # it reads the store, which reads this module

    shared = load_library(tools_dir())
    own = own_tools.folder()
    if own is None:
        return shared
    mine = load_library(own, programs=False)  # never an HTTP tool: those are the admins'
    names = {e.name for e in mine}
    return [e for e in shared if e.name not in names] + mine


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
    keep_turn(chat(), result)


def keep_turn(state: ChatState, result: TurnResult) -> None:
    """Keep the exchange; append the answer, or remember the error for the Retry box.

    Works on the ChatState object itself, not through st.session_state: a turn whose tab
    closed is kept after Streamlit refuses every further st.* call."""
    state.conversation.exchanges[result.exchange.id] = result.exchange
    if result.message is not None:
        state.conversation.messages.append(result.message)
        state.error = None
        state.recorded = RecordedServer.of(result.exchange)  # the session's latest model
        if result.message.finish_reason == "stopped":
            state.notice = ("info", "Stopped: the answer so far is kept (and recorded).")
    elif result.error is not None:
        state.error = TurnError.of(result.error, result.exchange.id)
    elif result.exchange.error_kind == "stopped":
        state.notice = ("info", "Stopped before any answer arrived (the request is "
                                "recorded).")


def set_settings(value: ChatSettings) -> None:
    st.session_state["conn.settings"] = value


def settings() -> ChatSettings:
    return st.session_state.get("conn.settings") or ChatSettings(model=endpoint().model)


def flash(kind: str, text: str, where: str = "top") -> None:
    """A message for the next run, shown `where` the page asks for it (near what it is about:
    an import's result by the uploader, not at the top of a long page)."""
    st.session_state[f"flash.{where}"] = (kind, text)


def take_flash(where: str = "top") -> tuple[str, str] | None:
    return st.session_state.pop(f"flash.{where}", None)


def uploader_key(name: str) -> str:
    """The key of a file uploader, new after each `clear_uploader`: Streamlit has no other way
    to empty one, and a file left attached after importing invites importing it twice."""
    return f"{name}.{st.session_state.get(f'{name}.round', 0)}"


def clear_uploader(name: str) -> None:
    st.session_state[f"{name}.round"] = st.session_state.get(f"{name}.round", 0) + 1


# --- Canned results ----------------------------------------------------------------------------

def use_canned_result(call_id: str, text: str, label: str | None = None) -> tuple[str, bool]:
    """Put a result into a result box. A canned result (`label` given) named "error" (or
    "error: …") ticks "This result is an error" and any other clears it; without a label the
    switch is left as the caller set it. Returns (text, is error) like save_result_draft."""
    st.session_state[result_key(call_id)] = text
    if label is not None:
        st.session_state[result_error_key(call_id)] = is_error_name(label)
    return save_result_draft(call_id)


def is_error_name(label: str) -> bool:
    name = label.strip().lower()
    return name == "error" or name.startswith(("error ", "error:", "error-", "error_"))


# --- Remote images in the model's answers (components.untrusted) --------------------------------

def images_allowed(message_key: str) -> bool:
    return bool(st.session_state.get(f"untrusted.images_allowed.{message_key}"))


def allow_images(message_key: str) -> None:
    """Widget callback: the user asked to load this answer's images."""
    st.session_state[f"untrusted.images_allowed.{message_key}"] = True
