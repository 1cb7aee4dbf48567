"""Typed errors whose text tells a person what happened and what to do.

Core raises these; only pages turn them into something on screen. `kind` is a stable,
machine-readable name (used by tests and stored with the exchange).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any


class ToolsmithError(Exception):
    """Base of every error core raises for a person to read."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.message} {self.detail}".strip()


class ConfigError(ToolsmithError):
    kind = "config"


class APIStatusError(ToolsmithError):
    """The server answered with a non-2xx status."""

    kind = "http_status"

    def __init__(self, message: str, *, body_excerpt: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.body_excerpt = body_excerpt


class ConnectError(ToolsmithError):
    kind = "connect"


class TimeoutError_(ToolsmithError):
    """No answer (or no first byte) within the configured time."""

    kind = "timeout"


class StreamStalled(ToolsmithError):
    """The stream started, then stopped sending for longer than the idle timeout."""

    kind = "stream_stalled"


class StreamBroken(ToolsmithError):
    """The connection closed before the stream said it was done."""

    kind = "stream_broken"


class StreamErrorEvent(ToolsmithError):
    """The server reported an error inside an HTTP-200 stream."""

    kind = "stream_error"


class MalformedResponse(ToolsmithError):
    """A chunk or body that is not the JSON the wire format promises."""

    kind = "malformed"


@dataclass(frozen=True)
class ErrorBody:
    """What could be read out of an error body, whatever its shape."""

    message: str
    type: str | None = None
    code: str | None = None


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def read_error_body(raw: bytes) -> ErrorBody | None:
    """Read the message out of OpenAI, Anthropic, bare-object, or HTML error bodies."""
    text = raw.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        return error_from_object(data)
    if text[:1] == b"<" or b"<html" in text[:500].lower():
        match = _TITLE.search(text)
        title = html.unescape(match.group(1).decode("utf-8", "replace")).strip() if match else ""
        return ErrorBody(message=f"an HTML page{f' titled “{title}”' if title else ''} "
                                 "(usually a proxy or gateway, not the model server)", type="html")
    return ErrorBody(message=text[:300].decode("utf-8", "replace"))


def error_from_object(data: dict[str, Any]) -> ErrorBody | None:
    """The message of an error object: {"error": {...}}, {"error": "..."}, or {"message": ...}."""
    err = data.get("error", data)
    if isinstance(err, str):
        return ErrorBody(message=err)
    if not isinstance(err, dict):
        return None
    message = err.get("message") or err.get("msg") or err.get("detail")
    if not message:
        return None
    code = err.get("code")
    return ErrorBody(
        message=str(message),
        type=err.get("type") if isinstance(err.get("type"), str) else None,
        code=str(code) if code is not None else None,
    )


_STATUS_HINTS: dict[int, str] = {
    400: "the request was rejected as invalid. Check the model name, the tool schemas and the "
    "message history (every tool call needs a result).",
    401: "the API key was rejected. Check {key_env} or the key in the sidebar.",
    403: "access is forbidden for this key or model. Check the key's permissions.",
    404: "the address or model was not found. Check the base URL (OpenAI-style bases end in "
    "/v1, Anthropic-style bases do not) "
    "and the model name.",
    408: "the server timed out waiting for the request. Retry.",
    409: "the server reported a conflict. Retry.",
    413: "the request is too large. Shorten the conversation or the tool definitions.",
    422: "the server could not process the request. Check the model name and parameters.",
    429: "rate limited or out of quota. Wait a moment and Retry, or check your plan's limits.",
    529: "the server is overloaded. Wait a moment and Retry.",
}


def status_error(
    status: int,
    raw_body: bytes,
    *,
    request_id: str | None,
    key_env: str,
    retried: int = 0,
    key_sent: bool = True,
) -> APIStatusError:
    """An APIStatusError whose text names the status, the server's own words and what to do."""
    body = read_error_body(raw_body)
    if status == 401 and not key_sent:
        hint = (f"no API key was sent, and this server wants one. Set {key_env} or type the "
                "key in the sidebar.")
    elif status in _STATUS_HINTS:
        hint = _STATUS_HINTS[status].format(key_env=key_env)
    elif status >= 500:
        hint = "the server failed. Retry; if it keeps failing, the provider may be down."
    else:
        hint = "Check the request and Retry."
    said = f" It said: {body.message}" if body else ""
    tries = f" (after {retried + 1} attempts)" if retried else ""
    return APIStatusError(
        f"The server answered {status}{tries}: {hint}",
        detail=said.strip(),
        status=status,
        request_id=request_id,
        body_excerpt=raw_body[:2000].decode("utf-8", "replace"),
    )
