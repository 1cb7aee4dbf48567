"""The provider-neutral conversation: what is pending, and how tool results are appended.

A server rejects a history in which an assistant's tool calls are not all answered, so the
pending calls decide what the user may do next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from core.types import Exchange, Message, ToolCall, new_id


@dataclass
class Conversation:
    """One chat session: its messages and every exchange made for it, by exchange id."""

    id: str = field(default_factory=lambda: new_id("ses_"))
    messages: list[Message] = field(default_factory=list)
    exchanges: dict[str, Exchange] = field(default_factory=dict)


def fresh_copy(conversation: Conversation) -> Conversation:
    """The same conversation under new session, message and exchange ids.

    For a tab whose history no longer matches the stored session (another tab continued it):
    its own messages are kept as a fork instead of colliding with the stored ids. Each copied
    exchange points at the request it records (`copied_from`), so Usage counts it once.
    """
    remap = {old: new_id("ex_") for old in conversation.exchanges}
    return Conversation(
        messages=[replace(m, id=new_id("msg_"),
                          exchange_id=remap.get(m.exchange_id or "", m.exchange_id))
                  for m in conversation.messages],
        exchanges={remap[old]: replace(e, id=remap[old], copied_from=e.copied_from or old)
                   for old, e in conversation.exchanges.items()},
    )


def pending_tool_calls(messages: list[Message]) -> list[ToolCall]:
    """Calls of the last assistant message that no tool message has answered yet."""
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if message.role == "assistant":
            answered = {m.tool_call_id for m in messages[position + 1:] if m.role == "tool"}
            return [call for call in message.tool_calls if call.id not in answered]
        if message.role == "user":
            return []
    return []


def awaits_model(messages: list[Message]) -> bool:
    """True when the next step is the model's: the last message is the user's or a result."""
    if not messages or messages[-1].role not in ("user", "tool"):
        return False
    return not pending_tool_calls(messages)


def tool_result_messages(
    calls: list[ToolCall], results: Mapping[str, str], errors: Mapping[str, bool] | None = None
) -> list[Message]:
    """One role "tool" message per call, in the order the model made the calls."""
    errors = errors or {}
    return [
        Message(role="tool", content=results.get(call.id, ""), tool_call_id=call.id,
                name=call.name, is_error=errors.get(call.id, False))
        for call in calls
    ]


def missing_results(calls: list[ToolCall], results: Mapping[str, str]) -> list[ToolCall]:
    return [call for call in calls if not results.get(call.id, "").strip()]


def branch(conversation: Conversation, keep: int) -> Conversation:
    """A new session holding the first `keep` messages, under fresh ids (the exchanges they
    refer to are copies pointing at their originals, so Usage counts each request once).
    The conversation it came from is left as it was: the previous branch stays reachable."""
    kept = conversation.messages[:keep]
    used = {m.exchange_id for m in kept if m.exchange_id}
    return fresh_copy(Conversation(
        messages=kept,
        exchanges={k: e for k, e in conversation.exchanges.items() if k in used}))


def without_message(messages: list[Message], message_id: str) -> list[Message]:
    """The messages without this one. An assistant message takes the results of its tool
    calls with it (a result answering no call would be refused by every server); a tool
    result is not removed alone (its call would be left unanswered mid-history)."""
    target = next((m for m in messages if m.id == message_id), None)
    if target is None or target.role == "tool":
        return list(messages)
    calls = {c.id for c in target.tool_calls}
    return [m for m in messages
            if m.id != message_id and not (m.role == "tool" and m.tool_call_id in calls)]
