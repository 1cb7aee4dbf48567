"""Server-Sent Events decoder following the WHATWG parsing rules.

Bytes go in as they arrive from the network (split anywhere, even inside a UTF-8 sequence
or between CR and LF); complete events come out. Work is linear in the input: each byte is
scanned once and each event's data joined once.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: `feed()` chunks, then `close()` for a last event left unterminated.

    Differs from a browser in one deliberate way: at end of stream, an event whose blank
    line never came is still dispatched, because real servers end streams that way.
    """

    __slots__ = (
        "_data",
        "_decoder",
        "_event",
        "_id",
        "_pending",
        "_retry",
        "_skip_lf",
        "_started",
        "comments",
    )

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []  # pieces of a line not yet terminated
        self._skip_lf = False  # last chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._started = False
        self.comments = 0

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf and text[:1] == "\n":
            text = text[1:]
        self._skip_lf = text[-1:] == "\r"
        # Only CR, LF and CRLF end lines (str.splitlines would also split on U+2028,
        # which JSON may carry unescaped).
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            self._pending.append(text)
            return []
        lines = text.split("\n")
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
            self._pending = []
        tail = lines.pop()
        if tail:
            self._pending.append(tail)
        events: list[SSEEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """Flush at end of stream, dispatching an unterminated last event."""
        self._pending.append(self._decoder.decode(b"", final=True))
        line = "".join(self._pending)
        self._pending = []
        events: list[SSEEvent] = []
        if line:
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comments += 1
            return None
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data = []
        self._event = ""
        return event


def iter_events(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Decode a whole byte stream (convenience for tests and non-incremental callers)."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()
