"""Wire formats. Each module offers the same functions, so core.turn stays format-agnostic:

- `build_request(messages, tools, settings) -> dict`: the JSON body to POST;
- `parse_response(body) -> Message`: a non-streaming answer;
- `StreamAccumulator()`: `add(chunk: dict) -> bool` (True when something visible changed),
  `done`, `chunks`, `finish_reason`, `usage_raw`, `text()`, `reasoning()`, `tool_calls()`,
  `message()`.
"""

from __future__ import annotations

from types import ModuleType


def wire_format(name: str) -> ModuleType:
    if name == "anthropic":
        from core.wire import anthropic_messages

        return anthropic_messages
    from core.wire import openai_chat

    return openai_chat
