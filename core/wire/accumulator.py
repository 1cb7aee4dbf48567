"""The read side both wire formats' stream accumulators share: the text so far, the reasoning
so far, and the final assistant message. Each format implements how chunks are folded in."""

from __future__ import annotations

from typing import Any

from core.types import Message, ToolCall, Usage, new_id


class AccumulatedMessage:
    """Base of a stream accumulator: fragments live in lists and are joined only when read."""

    local_id_prefix = "call_local_"  # for calls whose server never sent an id
    end_event = "[DONE]"

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self.usage_raw: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.done = False
        self.chunks = 0

    def tool_calls(self) -> list[ToolCall]:
        raise NotImplementedError

    def usage(self) -> Usage | None:
        raise NotImplementedError

    def text(self) -> str:
        return "".join(self._text)

    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def message(self) -> Message:
        calls = self.tool_calls()
        for call in calls:
            if not call.id:
                call.id = new_id(self.local_id_prefix)
        return Message(role="assistant", content=self.text(), tool_calls=calls,
                       reasoning=self.reasoning(), usage=self.usage(),
                       finish_reason=self.finish_reason)
