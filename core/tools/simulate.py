"""Simulated tool results: a separate request asks the current model for a plausible result of
one call, from the tool's description and schemas, the arguments and the conversation, so a
demo needs no hand-typed results. The answer only fills the result box; the user sends it.

The request carries a marker in its system prompt, which the offline demo model recognises
(it answers such requests from the schemas alone), and its exchange is marked `simulate`
so the inspector and the Usage page tell it apart from the chat's own requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from core.types import ChatSettings, Message, ToolCall, ToolSpec

MARKER = "[toolsmith:simulate-tool-result]"
PURPOSE = "simulate"
HISTORY_MESSAGES = 12
HISTORY_CHARS = 600
_FENCE = re.compile(r"^```[\w-]*\n(.*?)\n?```$", re.DOTALL)

SYSTEM = (f"{MARKER} You stand in for a software tool. Given the tool's definition, the "
          "conversation and the call's arguments, reply with only what the tool would return: "
          "JSON when the tool returns structured data (fitting its output schema when one is "
          "given), plain text otherwise. Invent realistic, specific values. No commentary, no "
          "code fences.")


def _brief(message: Message) -> str:
    if message.role == "assistant" and message.tool_calls:
        calls = "; ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        said = f"{message.content} " if message.content else ""
        return f"assistant: {said}[calls {calls}]"[:HISTORY_CHARS]
    who = f"tool {message.name}" if message.role == "tool" else message.role
    return f"{who}: {message.content}"[:HISTORY_CHARS]


def simulation_request(call: ToolCall, tool: ToolSpec | None,
                       output_schema: dict[str, Any] | None, history: list[Message],
                       settings: ChatSettings) -> tuple[list[Message], ChatSettings]:
    """The messages and settings of the simulation request (no tools: it answers in text)."""
    lines = [f"Tool: {call.name}"]
    if tool is not None:
        lines.append(f"Description: {tool.description}")
        lines.append("Parameters schema: " + json.dumps(tool.parameters, ensure_ascii=False))
    if output_schema:
        lines.append("Output schema: " + json.dumps(output_schema, ensure_ascii=False))
    shown = [m for m in history if m.role != "system"][-HISTORY_MESSAGES:]
    if shown:
        lines.append("Conversation so far (latest last):")
        lines.extend(f"- {_brief(m)}" for m in shown)
    lines.append(f"Arguments: {call.arguments or '{}'}")
    lines.append("Reply with the tool's result only.")
    request_settings = replace(settings, system_prompt=SYSTEM, tool_choice=None,
                               parallel_tool_calls=None)
    return [Message(role="user", content="\n".join(lines))], request_settings


def result_text(reply: str) -> str:
    """The model's reply as a result: code fences dropped, JSON pretty-printed."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, ValueError):
        return text


def is_simulation(settings: ChatSettings) -> bool:
    return settings.system_prompt.startswith(MARKER)


def parse_simulation(text: str) -> tuple[str, dict[str, Any] | None, Any]:
    """(tool name, output schema, arguments) read back from a simulation request's text; the
    offline demo model answers from these."""
    name, schema, arguments = "", None, {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        try:
            if key == "Tool":
                name = value.strip()
            elif key == "Output schema":
                schema = json.loads(value)
            elif key == "Arguments":
                arguments = json.loads(value)
        except (json.JSONDecodeError, ValueError):
            continue
    return name, schema if isinstance(schema, dict) else None, arguments
