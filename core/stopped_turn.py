"""A turn ended before its answer did: Stop was pressed, or the browser tab went away.

The request was sent (and billed), so it is recorded like any other, marked as stopped or
interrupted, with what arrived: the text and reasoning so far, and the raw stream. Tool calls
that had begun are not kept in the conversation (their arguments may be cut short, and a
call in the history would wait for a result); the exchange still lists them for the inspector.
"""

from __future__ import annotations

import time
from typing import Literal

from core.redaction import scrub_exchange, scrub_message
from core.turn import TurnResult, TurnWatch
from core.types import Message

Reason = Literal["stopped", "interrupted"]
WHY = {
    "stopped": "Stopped by the user before the answer was complete.",
    "interrupted": "Interrupted: the browser tab closed before the answer was complete.",
}


def stopped_turn(watch: TurnWatch, reason: Reason, secret: str = "") -> TurnResult | None:
    """The result of a turn ended early; None if it had not even begun its request."""
    exchange = watch.exchange
    if exchange is None:
        return None
    watch.cancelled.set()  # the stream, if it still runs, stops at its next chunk
    acc = watch.accumulator
    text = acc.text() if acc is not None else ""
    reasoning = acc.reasoning() if acc is not None else ""
    calls = acc.tool_calls() if acc is not None else []
    exchange.ended_at = time.time()
    exchange.error = WHY[reason]
    exchange.error_kind = reason
    exchange.transcript = b"".join(list(watch.raw)).decode("utf-8", "replace") or None
    exchange.response_body = {
        reason: True,
        "chunks": acc.chunks if acc is not None else 0,
        "content": text,
        "reasoning": reasoning or None,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls],
    }
    message = None
    if text or reasoning:
        message = Message(role="assistant", content=text, reasoning=reasoning,
                          finish_reason=reason, exchange_id=exchange.id)
    if secret:
        scrub_exchange(exchange, secret)
        if message is not None:
            scrub_message(message, secret)
    return TurnResult(exchange=exchange, message=message)
