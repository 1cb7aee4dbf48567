"""Synthetic conversations with tool calls, for the page benchmarks."""

from __future__ import annotations

from core.conversation import Conversation
from core.types import Exchange, Message, ToolCall, Usage


def conversation(n: int, *, pending: bool = False) -> Conversation:
    """`n` messages in turns of four: question, tool call, tool result, answer; each answer
    with its recorded request, so the Usage page has something to chart."""
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
        for message in conv.messages[-3::2]:  # the two answers of this turn
            exchange = _request(len(conv.exchanges), message.usage)
            message.exchange_id = exchange.id
            conv.exchanges[exchange.id] = exchange
        i += 1
    conv.messages = conv.messages[:n]
    if pending:
        call = ToolCall("call_pending", "get_current_weather", '{"location": "Tokyo, Japan"}')
        conv.messages[-1] = Message("assistant", "", tool_calls=[call], finish_reason="tool_calls")
    kept = {m.exchange_id for m in conv.messages}
    conv.exchanges = {k: v for k, v in conv.exchanges.items() if k in kept}
    return conv


def _request(k: int, usage: Usage | None) -> Exchange:
    """The k-th recorded request of a bench session: a demo-model call a second apart."""
    started = 1_780_000_000.0 + k
    return Exchange(provider="demo", model="toolsmith-demo", base_url="", request_body={},
                    stream=True, started_at=started, first_token_at=started + 0.12,
                    ended_at=started + 0.4, status=200, usage=usage)
