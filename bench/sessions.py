"""Synthetic conversations with tool calls, for the page benchmarks."""

from __future__ import annotations

from core.conversation import Conversation
from core.types import Message, ToolCall, Usage


def conversation(n: int, *, pending: bool = False) -> Conversation:
    """`n` messages in turns of four: question, tool call, tool result, answer."""
    conv = Conversation(id=f"ses_bench_{n}{'_pending' if pending else ''}")
    i = 0
    while len(conv.messages) < n:
        call = ToolCall(f"call_{i}", "get_current_weather",
                        '{"location": "Boston, MA", "unit": "celsius"}')
        conv.messages += [
            Message("user", f"Question {i}: what's the weather like in Boston today?"),
            Message("assistant", "", tool_calls=[call], finish_reason="tool_calls",
                    usage=Usage(80, 23, 103, 0, 0)),
            Message("tool", '{"temperature": 22, "unit": "celsius"}', tool_call_id=call.id,
                    name=call.name),
            Message("assistant", f"Answer {i}: it is 22 °C and sunny in Boston.",
                    finish_reason="stop", usage=Usage(120, 15, 135, 0, 0)),
        ]
        i += 1
    conv.messages = conv.messages[:n]
    if pending:
        call = ToolCall("call_pending", "get_current_weather", '{"location": "Tokyo, Japan"}')
        conv.messages[-1] = Message("assistant", "", tool_calls=[call], finish_reason="tool_calls")
    return conv
