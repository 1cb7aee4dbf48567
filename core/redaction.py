"""Keys a server echoes back, removed from everything kept or shown of its answer.

A key can come back whole (an error quoting it, a header), or in pieces: split across two
stream chunks, the raw transcript holds each half in a different event, and no plain search
for the key finds it. So every run of at least `fragment_length(key)` characters that matches
part of the key is redacted too; a shorter run gives away too little of a key to matter.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from core.config import REDACTED, redact
from core.types import Exchange, Message

MIN_SECRET = 8  # shorter "keys" (test values, typos) would redact ordinary words


def fragment_length(secret: str) -> int:
    return max(6, min(12, len(secret) // 3))


def redact_text(text: str, secret: str) -> str:
    """`text` without `secret`, whole or in runs of fragment_length(secret) or more."""
    if not text or len(secret) < MIN_SECRET:
        return text
    text = text.replace(secret, REDACTED)
    size = fragment_length(secret)
    spans: list[tuple[int, int]] = []
    for offset in range(len(secret) - size + 1):
        window = secret[offset:offset + size]
        start = text.find(window)
        while start != -1:
            # Grow the hit both ways while it still follows the key.
            left, right, k_left, k_right = start, start + size, offset, offset + size
            while left > 0 and k_left > 0 and text[left - 1] == secret[k_left - 1]:
                left, k_left = left - 1, k_left - 1
            while right < len(text) and k_right < len(secret) and \
                    text[right] == secret[k_right]:
                right, k_right = right + 1, k_right + 1
            spans.append((left, right))
            start = text.find(window, start + 1)
    if not spans:
        return text
    out, last = [], 0
    for left, right in sorted(spans):
        if left < last:  # overlaps the previous span: extend it
            last = max(last, right)
            continue
        out.append(text[last:left])
        out.append(REDACTED)
        last = right
    # The loop appended a marker per span start; a span merged into another added none.
    out.append(text[last:])
    return "".join(out)


def redact_value(value: Any, secret: str) -> Any:
    """redact_text through strings, lists and mappings (keys included)."""
    if isinstance(value, str):
        return redact_text(value, secret)
    if isinstance(value, dict):
        return {redact_text(k, secret) if isinstance(k, str) else k: redact_value(v, secret)
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, secret) for v in value]
    return value


def scrub_exchange(exchange: Exchange, secret: str) -> None:
    """Every text field of the exchange and its attempts, redacted in place. The request
    headers are masked when they are built; the body Toolsmith sent never holds the key."""
    if len(secret) < MIN_SECRET:
        exchange.transcript = redact(exchange.transcript, secret)
        exchange.response_body = redact(exchange.response_body, secret)
        return
    for name in ("request_id", "transcript", "error", "error_kind", "url", "model"):
        value = getattr(exchange, name)
        if isinstance(value, str):
            setattr(exchange, name, redact_text(value, secret))
    exchange.response_headers = redact_value(exchange.response_headers, secret)
    exchange.response_body = redact_value(exchange.response_body, secret)
    for attempt in exchange.attempts:
        if attempt.error:
            attempt.error = redact_text(attempt.error, secret)


def scrub_message(message: Message, secret: str) -> None:
    """The assistant's text, reasoning, finish reason and tool calls, redacted in place."""
    if len(secret) < MIN_SECRET:
        return
    for field in fields(message):
        value = getattr(message, field.name)
        if isinstance(value, str):
            setattr(message, field.name, redact_text(value, secret))
    for call in message.tool_calls:
        call.id = redact_text(call.id, secret)
        call.name = redact_text(call.name, secret)
        call.arguments = redact_text(call.arguments, secret)
