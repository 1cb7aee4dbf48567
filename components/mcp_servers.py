"""The Tools page's MCP section: each configured server with its state and tools, and a form
to add, edit or remove servers (written to the mcp.json file)."""

from __future__ import annotations

import json
import time

import streamlit as st

from components import mcp_state, state, team
from components.untrusted import code, text
from core.tools.mcp_client import McpTool, ServerStatus
from core.tools.mcp_config import McpServerConfig, parse_server, shown_value
from core.tools.mcp_tools import badges, check

STATE_ICONS = {"connected": ":green[:material/circle:]", "starting": ":material/hourglass_top:",
               "failed": ":red[:material/error:]", "stopped": ":gray[:material/circle:]"}
KEPT = "•••• (kept)"  # stands for a literal secret the form does not show


def render() -> None:
    st.subheader("MCP servers")
    config = mcp_state.config()
    st.caption(f"Configuration: {code(config.path)} (the `mcpServers` format of Claude Desktop, "
               "Cursor and VS Code; set TOOLSMITH_MCP_CONFIG to use another file). "
               "`${NAME}` values are read from the environment when a server starts and are "
               "never shown or stored.")
    for problem in config.problems:
        st.error(text(problem), icon=":material/description:")
    found = mcp_state.statuses(settle_s=5.0)
    if any(s.state == "starting" for s in found.values()):
        st.button("Refresh", key="tools.mcp.refresh", icon=":material/sync:",
                  help="Some servers are still starting.")
    for server in config.servers:
        status = found.get(server.name)
        if status is not None:
            _server(server, status)
    st.number_input("Step limit for automatic runs", min_value=1, max_value=100,
                    value=mcp_state.step_limit(), key="tools.mcp.step_limit",
                    on_change=mcp_state.keep_step_limit,
                    help="For servers set to run automatically: the chat stops continuing on "
                         "its own after this many tool-calling turns in a row.")
    if not team.is_admin():
        st.caption("On this team server MCP servers come from the admins' configuration: you "
                   "can use them, not add or change them.")
        return
    with st.expander("Add an MCP server", icon=":material/add:"):
        _form(None, "tools.mcp.new")


def _server(server: McpServerConfig, status: ServerStatus) -> None:
    with st.container(border=True):
        head, buttons = st.columns([4, 2], vertical_alignment="center")
        version = (f" — {text(status.server_name, 100)} {text(status.server_version, 40)}"
                   .rstrip() if status.server_name else "")
        head.markdown(f"{STATE_ICONS.get(status.state, '')} **{code(server.name)}**{version} · "
                      f"{status.state}")
        head.caption(f"{'stdio' if server.transport == 'stdio' else 'streamable HTTP'}: "
                     f"{code(server.target(), 500)} · timeout {server.timeout_s:g} s · "
                     f"started {status.connects}× · since "
                     f"{time.strftime('%H:%M:%S', time.localtime(status.since))}")
        row = buttons.container(horizontal=True)
        row.button("Reconnect", key=f"tools.mcp.reconnect.{server.name}", icon=":material/refresh:",
                   on_click=mcp_state.reconnect, args=(server.name,))
        if team.is_admin():
            row.button("Remove", key=f"tools.mcp.remove.{server.name}", icon=":material/delete:",
                       on_click=mcp_state.remove_server, args=(server.name,))
        if status.state == "failed":
            st.error(text(status.reason), icon=":material/block:")
        if status.stderr_tail:
            with st.expander("stderr (last lines)", expanded=status.state == "failed"):
                st.code(status.stderr_tail, language=None)
        key = mcp_state.approval_key(server.name)
        state.restore(key, "ask")  # kept across pages like every such choice (state.keep_all)
        st.radio("Calls to this server's tools", mcp_state.APPROVAL_CHOICES,
                 format_func=mcp_state.APPROVAL_LABELS.get, horizontal=True,
                 key=key, on_change=state.keep, args=(key,),
                 help="Ask: each call waits for Approve / Deny in the chat. Automatically: "
                      "calls run and the chat continues by itself, up to the step limit.")
        if status.state == "connected":
            st.caption(f"{len(status.tools)} tool{'s' if len(status.tools) != 1 else ''}")
            if status.instructions:
                with st.expander("The server's instructions"):
                    st.text(status.instructions[:20_000])
            for tool in status.tools:
                _tool(tool)
        if team.is_admin():
            with st.expander("Edit this server"):
                _form(server, f"tools.mcp.edit.{server.name}")


def _tool(tool: McpTool) -> None:
    checks = check(tool)
    errors = [p for p in checks.problems if p.severity == "error"]
    left, right = st.columns([5, 1], vertical_alignment="center")
    shown = " ".join(f"`{b}`" for b in badges(tool))
    description = text(tool.description, 300) if tool.description else "(no description)"
    left.markdown(f":material/build: **{code(tool.name)}** {shown} — {description}")
    notes = []
    if errors:
        notes.append(f":material/cancel: {len(errors)} problem{'s' if len(errors) > 1 else ''}: "
                     + "; ".join(text(p) for p in errors[:3]))
    if checks.strict:
        notes.append(f":material/warning: breaks strict mode ({len(checks.strict)}): "
                     + "; ".join(text(p) for p in checks.strict[:2])
                     + (" …" if len(checks.strict) > 2 else "")
                     + " — sent without strict")
    else:
        notes.append(":material/check_circle: strict-mode ready")
    left.caption(" · ".join(notes))
    key = mcp_state.send_switch_key(tool)
    if key not in st.session_state:
        st.session_state[key] = mcp_state.is_sent(tool)
    right.toggle("Send", key=key, on_change=mcp_state.set_sent, args=(tool,))
    with left.expander("Schemas and copy"):
        st.caption("Input schema")
        st.code(json.dumps(tool.input_schema, indent=2, ensure_ascii=False), language="json")
        if tool.output_schema:
            st.caption("Output schema (results are checked against it)")
            st.code(json.dumps(tool.output_schema, indent=2, ensure_ascii=False),
                    language="json")
        if tool.annotations:
            st.caption("Annotations: " + text(json.dumps(tool.annotations)))
        st.button("Copy into the library", key=f"tools.mcp.copy.{tool.server}.{tool.name}",
                  on_click=mcp_state.copy_into_library, args=(tool,),
                  help="An editable YAML copy in the tool library.")


def _lines(pairs: tuple[tuple[str, str], ...], sep: str) -> str:
    return "\n".join(f"{k}{sep}{v if shown_value(v) == v else KEPT}" for k, v in pairs)


def _pairs(text: str, sep: str, old: tuple[tuple[str, str], ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    previous = dict(old)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if sep.strip() not in line:
            raise ValueError(f"{what} line {number} needs the form NAME{sep.strip()}value")
        name, value = (part.strip() for part in line.split(sep.strip(), 1))
        out[name] = previous.get(name, "") if value == KEPT else value
    return out


def _form(server: McpServerConfig | None, key: str) -> None:
    with st.form(key, border=False):
        name = st.text_input("Name", key=f"{key}.name", value=server.name if server else "",
                             placeholder="time")
        kinds = ("command (stdio)", "URL (streamable HTTP)")
        kind = st.radio("Transport", kinds, key=f"{key}.kind", horizontal=True,
                        index=1 if server and server.transport == "http" else 0)
        command = st.text_input("Command", key=f"{key}.command",
                                value=server.command if server else "", placeholder="uvx")
        args = st.text_area("Arguments (one per line)", key=f"{key}.args", height=80,
                            value="\n".join(server.args) if server else "",
                            placeholder="mcp-server-time")
        env = st.text_area("Environment (NAME=value per line; use ${VAR} for secrets)",
                           key=f"{key}.env", height=68,
                           value=_lines(server.env, "=") if server else "")
        url = st.text_input("URL", key=f"{key}.url", value=server.url if server else "",
                            placeholder="http://127.0.0.1:3001/mcp")
        headers = st.text_area("Headers (Name: value per line; e.g. Authorization: Bearer "
                               "${TOKEN})", height=68, key=f"{key}.headers",
                               value=_lines(server.headers, ": ") if server else "")
        timeout = st.number_input("Call timeout (seconds)", key=f"{key}.timeout",
                                  min_value=1.0, max_value=3600.0,
                                  value=server.timeout_s if server else 60.0)
        if not st.form_submit_button("Save server" if server else "Add server",
                                     type="primary"):
            return
    try:
        stdio = kind == kinds[0]
        entry: dict[str, object] = {"timeout": timeout}
        if stdio:
            entry |= {"command": command, "args": [a for a in args.splitlines() if a.strip()],
                      "env": _pairs(env, "=", server.env if server else (), "Environment")}
        else:
            entry |= {"url": url, "headers": _pairs(headers, ": ",
                                                     server.headers if server else (),
                                                     "Headers")}
        parsed = parse_server(name.strip(), entry)
        if server is not None:
            parsed = McpServerConfig(**{**parsed.__dict__, "extra": server.extra})
    except ValueError as exc:
        st.error(f"Not saved: {text(exc)}.", icon=":material/block:")
        return
    if server is None and name.strip() in {s.name for s in mcp_state.config().servers}:
        st.error(f"Not saved: a server named {code(name.strip())} exists already (edit it "
                 "instead).", icon=":material/block:")
        return
    if mcp_state.save_server(parsed, replaces=server.name if server else None):
        mcp_state.forget_form(key)
        st.rerun()
