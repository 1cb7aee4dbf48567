"""Running pending calls on MCP servers from the chat: Run (or Approve / Deny) per call, Run
all, the automatic loop with its step limit and Stop, and what a run brought back (images
inline, resources, structured content checked against the tool's output schema).

Every run is kept as an Exchange of the conversation (wire "mcp"): arguments, result, server
and duration are saved, inspected and exported like model requests.
"""

from __future__ import annotations

import base64
import time

import streamlit as st

from components import history_sync, http_run, inspector, mcp_state, messages, state
from components.untrusted import code, text
from core.conversation import Conversation
from core.tools import http_tool
from core.tools.mcp_client import McpTool, ToolRun, manager
from core.tools.mcp_results import render_result
from core.types import ChatSettings, Exchange, Message, ToolCall, ToolImage, ToolSpec

MCP_WIRE = "mcp"
RUN_WIRES = (MCP_WIRE, http_tool.WIRE)  # exchanges that are tool runs, not model requests


def connected_tools() -> dict[str, McpTool]:
    """Every connected server's tools by name (a call is run wherever its name is served,
    even if its Send switch went off after the model called it)."""
    found = mcp_state.statuses()
    return {t.name: t for s in found.values() if s.state == "connected" for t in s.tools}


def exchange_of(run: ToolRun, call: ToolCall) -> Exchange:
    status = manager().status(run.server)
    target = status.target if status else run.server
    return Exchange(
        provider=MCP_WIRE, model=f"{run.server}/{run.tool}", base_url=target,
        request_body={"method": "tools/call", "server": run.server, "tool_call_id": call.id,
                      "params": {"name": run.tool, "arguments": run.arguments}},
        stream=False, started_at=run.started_at, url=f"mcp://{run.server}", wire=MCP_WIRE,
        response_body=run.result, error=run.error or None, error_kind=run.error_kind or None,
        first_byte_at=run.ended_at, ended_at=run.ended_at)


def last_run(conversation: Conversation, call_id: str) -> Exchange | None:
    found = [e for e in conversation.exchanges.values() if e.wire in RUN_WIRES
             and e.request_body.get("tool_call_id") == call_id]
    return max(found, key=lambda e: e.started_at) if found else None


def run_images(run: Exchange) -> list[ToolImage]:
    """The images a run returned (MCP image content, or an HTTP tool's image answer)."""
    if run.error:
        return []
    if run.wire == http_tool.WIRE:
        found = http_tool.images_of(run.response_body)
    elif isinstance(run.response_body, dict):
        found = [(i.mime_type, i.data) for i in render_result(run.response_body).images]
    else:
        found = []
    return [ToolImage(mime, base64.b64encode(data).decode()) for mime, data in found]


def link_results(conversation: Conversation, sent: list[Message]) -> None:
    """Tool-result messages point at the run that produced them (its 🔍 opens it), and carry
    its images while the text still names them (delete the "[image…" line to send none)."""
    for message in sent:
        run = last_run(conversation, message.tool_call_id or "")
        if run is not None and message.exchange_id is None:
            message.exchange_id = run.id
            if "[image" in message.content:
                message.images = run_images(run)


def _last_user_turn(conversation: Conversation) -> str | None:
    return next((m.id for m in reversed(conversation.messages) if m.role == "user"), None)


def handle(conversation: Conversation, pending: list[ToolCall], settings: ChatSettings,
           tools: list[ToolSpec]) -> bool:
    """Carry out the runs the user asked for, or the automatic ones. True when every pending
    call got its result automatically, so the results are to be sent now."""
    served = connected_tools()
    requested = mcp_state.take_run_request()
    if requested:
        by_http = http_run.http_tools()
        for call in pending:
            if call.id in requested and call.name in by_http and call.name not in served:
                exchange = http_run.run(call, by_http[call.name])
                if exchange is not None:
                    conversation.exchanges[exchange.id] = exchange
        _run([c for c in pending if c.id in requested and c.name in served], served,
             conversation, settings, tools)
        return False
    automatic = [c for c in pending if c.name in served
                 and mcp_state.approval(served[c.name].server) == "auto"]
    if not automatic or any(last_run(conversation, c.id) for c in automatic):
        return False  # nothing to run, or already run: the user is looking at the results
    if len(automatic) != len(pending):
        # Some call waits for a person anyway: run the automatic ones now, send nothing yet.
        _run(automatic, served, conversation, settings, tools)
        return False
    steps, stopped = mcp_state.auto_progress(_last_user_turn(conversation))
    if stopped or steps >= mcp_state.step_limit():
        why = ("Stopped: the calls below wait for you." if stopped else
               f"The automatic loop ran {steps} steps, the step limit (set on the Tools page); "
               "the calls below wait for you.")
        st.info(why, icon=":material/pause_circle:")
        st.button("Continue automatically", key="chat.mcp.continue", icon=":material/fast_forward:",
                  on_click=mcp_state.resume_auto)
        return False
    st.button("Stop", key="chat.mcp.stop", icon=":material/stop_circle:",
              on_click=mcp_state.stop_auto,
              help="Stop running tools automatically; the calls wait for you.")
    _run(automatic, served, conversation, settings, tools)
    mcp_state.count_auto_step()
    return True


def _run(calls: list[ToolCall], served: dict[str, McpTool], conversation: Conversation,
         settings: ChatSettings, tools: list[ToolSpec]) -> None:
    for call in calls:
        tool = served[call.name]
        arguments, problem = call.parsed_arguments()
        if problem or not isinstance(arguments, dict):
            mcp_state.fill_result(call.id, f"Not run: the arguments are "
                                  f"{problem or 'not a JSON object'}.", True)
            continue
        with st.spinner(f"Running {code(call.name)} on {code(tool.server)}…"):
            run = manager().call(tool.server, call.name, arguments)
        exchange = exchange_of(run, call)
        conversation.exchanges[exchange.id] = exchange  # kept before anything can interrupt
        if run.error:
            mcp_state.fill_result(call.id, run.error, True)
        else:
            rendered = render_result(run.result or {}, tool.output_schema)
            mcp_state.fill_result(call.id, rendered.text, rendered.is_error)
    history_sync.save(settings, tools)


def _image_note() -> None:
    """What happens to a result's images in the current wire format."""
    if state.endpoint().wire == "openai":
        st.caption(":material/image: Chat Completions tool messages carry text only: the "
                   "image goes as its `[image…]` line in the text. The Anthropic and Responses "
                   "formats send the image itself (delete that line to send none).")
    else:
        st.caption(":material/image: The image is sent with the result (as an image block "
                   "/ input_image); delete its `[image…]` line in the box to send none.")


def server_notes() -> None:
    """Under the Chat heading: configured servers whose tools are not being sent, and why."""
    for status in mcp_state.statuses().values():
        if status.state == "failed":
            st.caption(f":material/warning: MCP server {code(status.name)} is not connected, "
                       f"so its tools are not sent: {text(status.reason)} (Tools page → Reconnect)")


# --- Drawn beside each result box ---------------------------------------------------------------

def run_all_button(calls: list[ToolCall]) -> None:
    served = connected_tools()
    by_http = http_run.http_tools()
    runnable = [c.id for c in calls if c.name in served or c.name in by_http]
    if len(runnable) > 1:
        st.button(f"Run all ({len(runnable)} server calls)", key="chat.mcp.run_all",
                  icon=":material/play_arrow:", on_click=mcp_state.request_run, args=(runnable,),
                  help="Run every pending call whose tool an MCP server serves.")


def controls(call: ToolCall) -> None:
    """Run / Approve / Deny for a call an MCP server serves, and what its last run returned."""
    tool = connected_tools().get(call.name)
    conversation = state.chat().conversation
    run = last_run(conversation, call.id)
    if tool is None:
        if call.name in http_run.http_tools():
            row = st.container(horizontal=True, vertical_alignment="center")
            row.caption(":material/language: an HTTP tool (its `run` block in the library)")
            row.button("Run again" if run else "Run", key=f"chat.mcp.run.{call.id}",
                       icon=":material/play_arrow:", on_click=mcp_state.request_run,
                       args=([call.id],))
        if run is not None:
            _outcome(run, None)
        return
    ask = mcp_state.approval(tool.server) == "ask"
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(f":material/power: served by {code(tool.server)} · "
                f"{'asks before each call' if ask else 'runs automatically'}")
    if ask and run is None:
        row.button("Approve and run", key=f"chat.mcp.run.{call.id}", icon=":material/check_circle:",
                   type="primary",
                   on_click=mcp_state.request_run, args=([call.id],))
        row.button("Deny", key=f"chat.mcp.deny.{call.id}", icon=":material/block:",
                   on_click=mcp_state.deny, args=(call.id, call.name),
                   help="Puts an error result into the box: word it as you like, then send.")
    else:
        row.button("Run again" if run else "Run", key=f"chat.mcp.run.{call.id}",
                   icon=":material/play_arrow:", on_click=mcp_state.request_run, args=([call.id],))
    if run is not None:
        _outcome(run, tool)


def _outcome(run: Exchange, tool: McpTool | None) -> None:
    line, button = st.columns([12, 1], vertical_alignment="center")
    took = f"{(run.ended_at or run.started_at) - run.started_at:.2f} s"
    when = time.strftime("%H:%M:%S", time.localtime(run.started_at))
    where = (f"{code(run.request_body.get('method'))} {code(run.url, 500)} · HTTP "
             f"{run.status or '—'}" if run.wire == http_tool.WIRE
             else f"on {code(run.request_body.get('server'))}")
    line.caption(f"Ran {where} at {when} in {took}{' — failed' if run.error else ''}")
    messages.inspect_button(button, run.id)
    if state.inspected() == run.id:
        inspector.render(run)
    if run_images(run):
        _image_note()
    if run.wire == http_tool.WIRE:
        for mime, data in http_tool.images_of(run.response_body):
            st.image(data, caption=f"{mime}, {len(data):,} bytes", width=320)
        return
    if run.error or not isinstance(run.response_body, dict):
        return
    rendered = render_result(run.response_body, tool.output_schema if tool else None)
    for image in rendered.images:
        st.image(image.data, caption=f"{image.mime_type}, {len(image.data):,} bytes",
                 width=320)
    for resource in rendered.resources:
        st.caption(f":material/attach_file: resource {code(resource['uri'], 500)} "
                   f"({text(resource.get('mimeType') or 'no type', 100)})")
    if rendered.has_structured and tool is not None and tool.output_schema:
        if rendered.violations:
            st.error(f"structuredContent breaks the tool's output schema "
                     f"({len(rendered.violations)} violation"
                     f"{'s' if len(rendered.violations) != 1 else ''}):", icon=":material/block:")
            st.table([{"where": code(v.pointer or "/"), "problem": text(v.message)}
                      for v in rendered.violations])
        else:
            st.caption(":material/check_circle: structuredContent fits the tool's output schema.")
    for note in rendered.notes:
        st.caption(f":material/warning: {text(note)}")
