"""One session as one JSON file, with full fidelity, and back.

Import checks the whole file before writing anything (parsed by core.bounded, then every field
for its type, range and length), so a wrong, truncated, oversized or crafted file changes
nothing and is refused with the place and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from core.bounded import Limits, ParseError, parse_json
from core.config import provider_of
from core.conversation import Conversation
from core.store import Store
from core.types import Attempt, Exchange, Message, ToolCall, ToolImage, Usage, new_id

FORMAT = "toolsmith.session"
VERSION = 1
MAX_IMPORT_BYTES = 20_000_000


class SessionFileError(ValueError):
    """The file is not a Toolsmith session export; the message says what is wrong."""


def export_session(store: Store, session_id: str) -> dict[str, Any]:
    conversation = store.load(session_id)
    row = store.session_row(session_id)
    if conversation is None or row is None:
        raise KeyError(session_id)
    return {
        "format": FORMAT, "version": VERSION,
        "session": {"id": row["id"], "title": row["title"], "created_at": row["created_at"],
                    "updated_at": row["updated_at"], "provider": row["provider"],
                    "model": row["model"],
                    "settings": json.loads(row["settings_json"] or "null"),
                    "tools": json.loads(row["tools_json"] or "null")},
        "messages": [asdict(m) for m in conversation.messages],
        "exchanges": [asdict(e) for e in conversation.exchanges.values()],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _need(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise SessionFileError(f"{where}: {what}")


# Ranges a real export stays far inside; beyond them a value can only be crafted, and it would
# break a page later (a year-10^12 timestamp takes the Usage page's datetimes down).
MAX_TIME = 253_402_300_799.0  # 9999-12-31T23:59:59Z
MAX_TOKENS = 2**31 - 1  # PostgreSQL INTEGER columns hold the counts
MAX_ID = 200
MAX_TITLE = 200
MAX_SHORT = 500  # model names, finish reasons, providers, error kinds
SESSION_LIMITS = Limits(max_bytes=MAX_IMPORT_BYTES, max_depth=100)
# C0/C1 controls and the bidirectional embeddings, overrides and isolates: in a title they
# reorder or hide what a list of sessions shows ("invoice\u202egnp.exe").
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text(raw: Any, where: str, name: str, limit: int | None = None,
          optional: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    _need(isinstance(value, str), where, f"{name} must be text")
    if limit is not None:
        _need(len(value) <= limit, where, f"{name} is longer than {limit} characters")
    return value


def _flag(raw: Any, where: str, name: str, default: bool = False) -> bool:
    value = raw.get(name, default)
    _need(isinstance(value, bool), where, f"{name} must be true or false")
    return value


def _time(raw: Any, where: str, name: str, optional: bool = True) -> float | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    _need(isinstance(value, int | float) and not isinstance(value, bool)
          and 0 <= value <= MAX_TIME, where,
          f"{name} must be a time in seconds since 1970, before the year 10000 (got "
          f"{str(value)[:40]})")
    return float(value)


def _status(raw: Any, where: str) -> int | None:
    value = raw.get("status")
    _need(value is None or (isinstance(value, int) and not isinstance(value, bool)
                            and 100 <= value <= 599), where,
          "status must be an HTTP status (100-599)")
    return value


def _usage(raw: Any, where: str) -> Usage | None:
    if raw is None:
        return None
    _need(isinstance(raw, dict), where, "usage must be an object")
    values: dict[str, Any] = {}
    for name in Usage.__dataclass_fields__:
        value = raw.get(name)
        if name == "estimated":
            values[name] = _flag(raw, where, name)
            continue
        _need(value is None or (isinstance(value, int) and not isinstance(value, bool)
                                and 0 <= value <= MAX_TOKENS), f"{where}/{name}",
              f"token counts must be whole numbers from 0 to {MAX_TOKENS:,}")
        values[name] = value
    return Usage(**values)


def _message(raw: Any, where: str) -> Message:
    _need(isinstance(raw, dict), where, "a message must be an object")
    role = raw.get("role")
    _need(role in ("system", "user", "assistant", "tool"), where, f"unknown role {role!r}"[:200])
    _need(isinstance(raw.get("content", ""), str), where, "content must be text")
    calls = raw.get("tool_calls") or []
    _need(isinstance(calls, list), where, "tool_calls must be a list")
    _need(role == "assistant" or not calls, where, "only an assistant message makes tool calls")
    tool_calls = []
    for index, call in enumerate(calls):
        at = f"{where}/tool_calls/{index}"
        _need(isinstance(call, dict) and isinstance(call.get("id"), str)
              and isinstance(call.get("name"), str)
              and isinstance(call.get("arguments", ""), str),
              at, "a tool call needs id, name and arguments text")
        _need(len(call["id"]) <= MAX_ID, at, f"the id is longer than {MAX_ID} characters")
        _need(len(call["name"]) <= MAX_ID, at, f"the name is longer than {MAX_ID} characters")
        tool_calls.append(ToolCall(call["id"], call["name"], call.get("arguments", "")))
    images = raw.get("images") or []
    _need(isinstance(images, list) and all(
        isinstance(i, dict) and isinstance(i.get("mime_type"), str)
        and str(i["mime_type"]).startswith("image/") and len(i["mime_type"]) <= MAX_SHORT
        and isinstance(i.get("data"), str) for i in images), f"{where}/images",
        "images must be a list of {mime_type: image/…, data: base64 text}")
    _need(role == "tool" or not images, f"{where}/images", "only a tool result carries images")
    tool_call_id = _text(raw, where, "tool_call_id", MAX_ID)
    _need(tool_call_id is None or role == "tool", where,
          "only a tool result answers a call (tool_call_id on a message of role "
          f"{role!r})")
    return Message(
        role=role, content=raw.get("content", ""), tool_calls=tool_calls,
        tool_call_id=tool_call_id, name=_text(raw, where, "name", MAX_ID),
        is_error=_flag(raw, where, "is_error"), reasoning=_text(raw, where, "reasoning") or "",
        usage=_usage(raw.get("usage"), f"{where}/usage"),
        finish_reason=_text(raw, where, "finish_reason", MAX_SHORT),
        exchange_id=_text(raw, where, "exchange_id", MAX_ID),
        images=[ToolImage(i["mime_type"], i["data"]) for i in images],
        id=new_id("msg_"),
    )


def _headers(raw: Any, where: str, name: str) -> dict[str, str]:
    value = raw.get(name) or {}
    _need(isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
          where, f"{name} must map text to text")
    return value


def _attempt(raw: Any, where: str) -> Attempt:
    _need(isinstance(raw, dict) and raw.get("started_at") is not None, where,
          "an attempt needs started_at")
    retry = raw.get("retry_after_s")
    _need(retry is None or (isinstance(retry, int | float) and not isinstance(retry, bool)
                            and 0 <= retry <= 86_400), where,
          "retry_after_s must be a number of seconds from 0 to 86,400")
    return Attempt(started_at=_time(raw, where, "started_at", optional=False) or 0.0,
                   status=_status(raw, where),
                   error=_text(raw, where, "error"),
                   retry_after_s=retry,
                   answered_at=_time(raw, where, "answered_at"))


def _exchange(raw: Any, where: str) -> Exchange:
    """Every field checked for its type and range: a file is untrusted input."""
    _need(isinstance(raw, dict), where, "an exchange must be an object")
    for key, kind in (("id", str), ("provider", str), ("model", str), ("base_url", str),
                      ("request_body", dict), ("stream", bool)):
        _need(isinstance(raw.get(key), kind), where, f"{key} is missing or of the wrong type")
    for key in ("id", "copied_from"):
        _text(raw, where, key, MAX_ID)
    for key in ("provider", "model", "error_kind", "wire", "purpose"):
        _text(raw, where, key, MAX_SHORT)
    for key in ("request_id", "transcript", "error", "url"):
        _text(raw, where, key)
    values: dict[str, Any] = {
        key: raw[key] for key in ("id", "provider", "model", "base_url", "request_body",
                                  "stream", "request_id", "transcript", "error", "error_kind",
                                  "url", "wire", "copied_from", "purpose")
        if raw.get(key) is not None}
    if values["provider"] in ("openai", "anthropic"):
        # An export from before provider meant the server (store migration 8): the old value
        # was the wire format, so it moves to `wire` and provider becomes the base URL's host.
        values.setdefault("wire", values["provider"])
        values["provider"] = provider_of(values["base_url"])
    values["started_at"] = _time(raw, where, "started_at", optional=False)
    for key in ("first_byte_at", "first_token_at", "ended_at"):
        values[key] = _time(raw, where, key)
    values["status"] = _status(raw, where)
    values["request_headers"] = _headers(raw, where, "request_headers")
    values["response_headers"] = _headers(raw, where, "response_headers")
    values["response_body"] = raw.get("response_body")
    attempts = raw.get("attempts") or []
    _need(isinstance(attempts, list), where, "attempts must be a list")
    return Exchange(**values, attempts=[_attempt(a, f"{where}/attempts/{i}")
                                        for i, a in enumerate(attempts)],
                    usage=_usage(raw.get("usage"), f"{where}/usage"))


_SETTING_CHECKS: dict[str, tuple[Any, str]] = {
    # key: (check, what it must be)
    "model": (lambda v: isinstance(v, str) and len(v) <= MAX_SHORT, "text"),
    "base_url": (lambda v: isinstance(v, str) and len(v) <= 2_000, "text"),
    "system_prompt": (lambda v: isinstance(v, str), "text"),
    "stream": (lambda v: isinstance(v, bool), "true or false"),
    "parallel_tool_calls": (lambda v: isinstance(v, bool), "true or false"),
    "temperature": (lambda v: isinstance(v, int | float) and not isinstance(v, bool)
                    and 0 <= v <= 2, "a number from 0 to 2"),
    # 0 is what the sidebar stores for "server default"
    "max_tokens": (lambda v: isinstance(v, int) and not isinstance(v, bool)
                   and 0 <= v <= 10_000_000, "a whole number from 0 to 10,000,000"),
    "tool_choice": (lambda v: isinstance(v, str | dict), "text or an object"),
}


def _session(session: Any) -> dict[str, Any]:
    _need(isinstance(session, dict) and isinstance(session.get("title"), str), "/session",
          "session with a title is missing")
    title = session["title"]
    _need(len(title) <= MAX_TITLE, "/session/title",
          f"longer than {MAX_TITLE} characters; shorten it in the file")
    _need(not _HIDDEN.search(title), "/session/title",
          "control or direction characters (such as U+202E) are not allowed in a title")
    for key in ("provider", "model"):
        _text(session, "/session", key, MAX_SHORT)
    settings = session.get("settings")
    _need(settings is None or isinstance(settings, dict), "/session/settings",
          "must be an object")
    for key, value in (settings or {}).items():
        check, what = _SETTING_CHECKS.get(key, (lambda v: True, ""))
        _need(value is None or check(value), f"/session/settings/{key}", f"must be {what}")
    tools = session.get("tools")
    _need(tools is None or (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)),
          "/session/tools", "must be a list of tool definitions")
    return session


def parse_session_file(data: bytes) -> tuple[dict[str, Any], Conversation]:
    """Validate an export; (session fields, conversation with fresh ids) or SessionFileError."""
    if len(data) > MAX_IMPORT_BYTES:
        raise SessionFileError(f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
    try:
        document = parse_json(data, SESSION_LIMITS)
    except ParseError as exc:
        if exc.message.startswith("JSON syntax error"):
            raise SessionFileError(f"not valid JSON (truncated?): {exc.message[19:]} (line "
                                   f"{exc.line}, column {exc.column})") from None
        raise SessionFileError(str(exc)) from None
    _need(isinstance(document, dict) and document.get("format") == FORMAT, "/format",
          f"this is not a Toolsmith session export (expected format {FORMAT!r})")
    _need(document.get("version") == VERSION, "/version",
          f"unsupported version {str(document.get('version'))[:40]} (this Toolsmith reads "
          f"{VERSION})")
    session = _session(document.get("session"))
    raw_messages = document.get("messages")
    raw_exchanges = document.get("exchanges", [])
    _need(isinstance(raw_messages, list), "/messages", "messages must be a list")
    _need(isinstance(raw_exchanges, list), "/exchanges", "exchanges must be a list")
    conversation = Conversation(id=new_id("ses_"))
    exchanges = [_exchange(e, f"/exchanges/{i}") for i, e in enumerate(raw_exchanges)]
    remap = {e.id: new_id("ex_") for e in exchanges}
    for exchange in exchanges:
        # The request it records: every import of it (or the original, if stored here) is
        # counted once on the Usage page.
        exchange.copied_from = exchange.copied_from or exchange.id
        exchange.id = remap[exchange.id]
        conversation.exchanges[exchange.id] = exchange
    calls: set[str] = set()  # ids of the calls made so far: each result must answer one
    for index, raw in enumerate(raw_messages):
        message = _message(raw, f"/messages/{index}")
        message.exchange_id = remap.get(message.exchange_id or "")
        calls.update(c.id for c in message.tool_calls)
        _need(message.role != "tool" or message.tool_call_id in calls, f"/messages/{index}",
              "a tool result that answers no earlier tool call (the conversation could not "
              "be continued)")
        conversation.messages.append(message)
    return session, conversation


def import_session(store: Store, data: bytes) -> str:
    """Store an exported session as a new session; returns its id."""
    session, conversation = parse_session_file(data)
    provider = session.get("provider")
    if provider in ("openai", "anthropic"):  # an older export: provider was the wire format
        latest = max(conversation.exchanges.values(), key=lambda e: e.started_at, default=None)
        base = (session.get("settings") or {}).get("base_url")
        provider = latest.provider if latest is not None else \
            provider_of(base) if isinstance(base, str) and base else provider
    store.record(conversation, provider=provider, model=session.get("model"),
                 settings=session.get("settings"), tools=session.get("tools"),
                 title=session["title"])
    return conversation.id
