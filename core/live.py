"""What the page shows of an answer while it streams: the tail of each part and its size.

Every redraw sends what it shows over the websocket. A server that streams 50 MB of tool-call
arguments would otherwise have the whole growing text re-sent every 50 ms, and the browser falls
minutes behind until the server drops the session. So the live view gets the last few thousand
characters of each part, how large the part is, and the key redacted, however large the answer.
The finished message is shown whole, by the usual message view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.redaction import redact_text
from core.wire.base import Accumulator

TAIL_CHARS = 3_000


def _tail(text: str, secret: str) -> str:
    # A little more than the tail, so a key cut by the tail's edge is still recognised.
    cut = text[-(TAIL_CHARS + len(secret)):] if len(text) > TAIL_CHARS else text
    return redact_text(cut, secret)[-TAIL_CHARS:] if secret else cut[-TAIL_CHARS:]


def size_note(chars: int) -> str:
    """"" for a part short enough to show whole; else how much is not shown."""
    if chars <= TAIL_CHARS:
        return ""
    return f"showing the last {TAIL_CHARS:,} of {chars:,} characters so far"


@dataclass(frozen=True)
class LiveCall:
    id: str
    name: str
    arguments_tail: str
    arguments_chars: int

    @property
    def size_note(self) -> str:
        return size_note(self.arguments_chars)


@dataclass(frozen=True)
class LiveView:
    text: str
    text_chars: int
    reasoning: str
    reasoning_chars: int
    calls: list[LiveCall] = field(default_factory=list)


def snapshot(acc: Accumulator, secret: str) -> LiveView:
    """The bounded, redacted view of a stream so far (see the module docstring)."""
    text, reasoning = acc.text(), acc.reasoning()
    calls = [LiveCall(id=redact_text(c.id or "", secret)[:200],
                      name=redact_text(c.name or "", secret)[:200],
                      arguments_tail=_tail(c.arguments, secret),
                      arguments_chars=len(c.arguments))
             for c in acc.tool_calls()]
    return LiveView(text=_tail(text, secret), text_chars=len(text),
                    reasoning=_tail(reasoning, secret), reasoning_chars=len(reasoning),
                    calls=calls)
