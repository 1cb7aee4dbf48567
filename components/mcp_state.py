"""Session state for MCP servers: which of their tools are sent, which servers may run without
asking, and the actions of the Tools page's MCP section (written to the mcp.json file).

The connections themselves are not session state: they belong to the process-wide manager
(core/tools/mcp_client.py), which every browser session shares, as it shares the file.
"""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from components import state, team
from components.state import flash, tools_dir
from components.untrusted import code, text
from core.tools.library import ToolFileError, save_tool
from core.tools.mcp_client import McpTool, ServerStatus, manager
from core.tools.mcp_config import (
    McpConfig,
    McpConfigError,
    McpServerConfig,
    config_path,
    load_config,
    save_servers,
)
from core.tools.mcp_tools import spec_of

log = logging.getLogger("toolsmith")
SETTLE_S = 15.0  # how long a page waits for servers that are still starting
DEFAULT_STEP_LIMIT = 10


def config() -> McpConfig:
    return load_config(config_path())


def statuses(*, settle_s: float = 0.0) -> dict[str, ServerStatus]:
    """Every configured server's state; starts the ones not yet started (or changed), and
    waits up to `settle_s` for those still starting."""
    servers = config().servers
    manager().sync(servers)
    for server in servers if settle_s else ():
        if (s := manager().status(server.name)) is not None and s.state == "starting":
            manager().wait_ready(server.name, settle_s)
    return manager().statuses()


def _off() -> set[str]:
    return st.session_state.setdefault("mcp.off", set())


def tool_key(tool: McpTool) -> str:
    return f"{tool.server}/{tool.name}"


def is_sent(tool: McpTool) -> bool:
    """A connected server's tools are sent by default, like library tools."""
    return tool_key(tool) not in _off()


def send_switch_key(tool: McpTool) -> str:
    return f"tools.mcp.send.{tool.server}.{tool.name}"


def set_sent(tool: McpTool) -> None:
    """Widget callback for the Send switch of one MCP tool."""
    if st.session_state.get(send_switch_key(tool)):
        _off().discard(tool_key(tool))
    else:
        _off().add(tool_key(tool))


def enabled_mcp_tools() -> list[McpTool]:
    """The tools of connected servers that the next request sends."""
    found = statuses(settle_s=SETTLE_S)
    return [t for s in found.values() if s.state == "connected" for t in s.tools if is_sent(t)]


def tool_named(name: str, tools: list[McpTool] | None = None) -> McpTool | None:
    """Which enabled server tool a model's call names (None: a library tool, or unknown)."""
    for tool in enabled_mcp_tools() if tools is None else tools:
        if tool.name == name:
            return tool
    return None


# --- Approval -------------------------------------------------------------------------------

APPROVAL_CHOICES = ("ask", "auto")
APPROVAL_LABELS = {"ask": "Ask before each call", "auto": "Run automatically"}


def approval_key(server: str) -> str:
    return f"tools.mcp.approval.{server}"


def approval(server: str) -> str:
    """"ask" or "auto", as chosen on the Tools page (kept across pages)."""
    return str(state.kept(approval_key(server), "ask") or "ask")


def step_limit() -> int:
    return int(st.session_state.get("mcp.step_limit", DEFAULT_STEP_LIMIT))


def keep_step_limit() -> None:
    st.session_state["mcp.step_limit"] = int(st.session_state.get("tools.mcp.step_limit")
                                             or DEFAULT_STEP_LIMIT)


# --- Actions of the Tools page -------------------------------------------------------------

def reconnect(name: str) -> None:
    manager().reconnect(name)


def save_server(server: McpServerConfig, replaces: str | None = None) -> bool:
    """Add or change one server in the file; True when written (else a flash says why)."""
    if not team.is_admin():  # commands run programs on the server: admins only
        flash("error", team.admin_only("MCP servers"))
        return False
    current = config()
    servers = [s for s in current.servers if s.name not in {server.name, replaces}]
    position = next((i for i, s in enumerate(current.servers)
                     if s.name in {server.name, replaces}), len(current.servers))
    servers.insert(min(position, len(servers)), server)
    try:
        save_servers(current, servers)
    except McpConfigError as exc:
        flash("error", text(exc))
        return False
    flash("success", f"Saved MCP server {code(server.name)} to {code(current.path)}.")
    return True


def remove_server(name: str) -> None:
    if not team.is_admin():
        flash("error", team.admin_only("MCP servers"))
        return
    current = config()
    try:
        save_servers(current, [s for s in current.servers if s.name != name])
    except McpConfigError as exc:
        flash("error", text(exc))
        return
    manager().sync(config().servers)
    flash("success", f"Removed MCP server {code(name)} from {code(current.path)}.")


def copy_into_library(tool: McpTool) -> None:
    """Callback: an editable YAML copy of the server's tool in the library. The server's own
    tool is switched off, so the two (same name) are not sent together."""
    from components import own_tools  # it reads the store

    own = own_tools.folder()  # someone who is not an admin copies into their own tools
    if not team.is_admin() and own is None:
        flash("error", team.admin_only("tool library (tools/)"))
        return
    try:
        path = save_tool(own or tools_dir(), spec_of(tool), programs=own is None)
        if own is not None:
            own_tools.keep(path)
    except (ToolFileError, OSError, SQLAlchemyError) as exc:
        flash("error", f"{code(tool.name)} could not be copied into the library: {text(exc)}")
        return
    _off().add(tool_key(tool))
    st.session_state[send_switch_key(tool)] = False
    if "tools.enabled" in st.session_state:  # else every library tool starts enabled
        st.session_state["tools.enabled"].add(tool.name)
    flash("success", f"Copied {code(tool.name)} from {code(tool.server)} into the library as "
          f"{code(path.name)} (edit it there). The server's own {code(tool.name)} is no longer "
          "sent, so the two do not clash.")


def forget_form(key: str) -> None:
    """Empty a server form after it was saved (what was typed, secrets included, goes)."""
    for name in [k for k in st.session_state if str(k).startswith(f"{key}.")]:
        del st.session_state[name]


# --- Running calls from the chat -------------------------------------------------------------

DENIED = ("The user denied this call of {name}. Do not call it again unless they ask; "
          "continue without its result.")


def request_run(call_ids: list[str]) -> None:
    """Callback of Run / Approve / Run all: the next script run carries the calls out."""
    st.session_state["mcp.run_request"] = list(call_ids)


def take_run_request() -> list[str]:
    return st.session_state.pop("mcp.run_request", None) or []


def deny(call_id: str, name: str) -> None:
    """Callback of Deny: an error result the user can still word before sending."""
    from components import history_sync

    st.session_state[state.result_error_key(call_id)] = True
    history_sync.use_canned_result(call_id, DENIED.format(name=name))


def fill_result(call_id: str, text: str, is_error: bool) -> None:
    """Put a run's result into its box (before the box is drawn) and keep it as a draft."""
    from components import history_sync

    st.session_state[state.result_error_key(call_id)] = is_error
    history_sync.use_canned_result(call_id, text)


def _auto() -> dict[str, object]:
    return st.session_state.setdefault("mcp.auto", {"turn": None, "steps": 0, "stopped": False})


def auto_progress(turn: str | None) -> tuple[int, bool]:
    """(automatic steps taken, stopped) for the loop started by the user message `turn`; a new
    user message starts a new loop."""
    auto = _auto()
    if auto["turn"] != turn:
        auto.update(turn=turn, steps=0, stopped=False)
    return int(auto["steps"]), bool(auto["stopped"])  # type: ignore[call-overload]


def count_auto_step() -> None:
    auto = _auto()
    auto["steps"] = int(auto["steps"]) + 1  # type: ignore[call-overload]


def stop_auto() -> None:
    """Callback of Stop: the automatic loop ends; pending calls wait for the user."""
    _auto()["stopped"] = True


def resume_auto() -> None:
    """Callback of Continue automatically: a fresh allowance of steps."""
    _auto().update(steps=0, stopped=False)


# --- Simulate ---------------------------------------------------------------------------------

def request_simulation(call_id: str) -> None:
    """Callback of Simulate: the next script run asks the model for a plausible result."""
    st.session_state["sim.request"] = call_id


def take_simulation_request() -> str | None:
    return st.session_state.pop("sim.request", None)


def remember_simulation(call_id: str, exchange_id: str) -> None:
    st.session_state.setdefault("sim.exchanges", {})[call_id] = exchange_id


def simulation_of(call_id: str) -> str | None:
    return st.session_state.get("sim.exchanges", {}).get(call_id)
