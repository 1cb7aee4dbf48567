"""MCP tools as Toolsmith sees them: the spec sent to a model, badges from the annotations,
and the same checks a library tool gets (real servers ship schemas that break strict mode)."""

from __future__ import annotations

from dataclasses import dataclass

from core.tools.mcp_client import McpTool
from core.tools.schemas import Problem, strict_problems, structure_problems
from core.types import ToolSpec

# MCP's hints, as badges; a hint the server did not set is not shown (the spec's defaults
# are the cautious ones: not read-only, possibly destructive, open world).
BADGES = (("readOnlyHint", "read-only"), ("destructiveHint", "destructive"),
          ("idempotentHint", "idempotent"), ("openWorldHint", "open-world"))


def spec_of(tool: McpTool) -> ToolSpec:
    """The definition sent to the model: MCP's inputSchema is the parameters schema."""
    return ToolSpec(name=tool.name, description=tool.description or tool.title or tool.name,
                    parameters=tool.input_schema)


def badges(tool: McpTool) -> list[str]:
    shown = [label for hint, label in BADGES if tool.annotations.get(hint) is True]
    if tool.annotations.get("readOnlyHint") is False and "destructive" not in shown \
            and tool.annotations.get("destructiveHint") is not False:
        shown.append("may write")
    return shown


@dataclass
class ToolChecks:
    problems: list[Problem]  # errors and warnings of the definition itself
    strict: list[Problem]  # what strict mode would reject


def check(tool: McpTool) -> ToolChecks:
    document = {"name": tool.name, "description": tool.description,
                "parameters": tool.input_schema}
    return ToolChecks(problems=structure_problems(document),
                      strict=strict_problems(tool.input_schema))
