"""One session as one JSON file, with full fidelity, and back.

Import checks the whole file before writing anything, so a wrong, truncated or oversized file
changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from core.conversation import Conversation
from core.store import Store
from core.types import Attempt, Exchange, Message, ToolCall, Usage, new_id

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


def _usage(raw: Any, where: str) -> Usage | None:
    if raw is None:
        return None
    _need(isinstance(raw, dict), where, "usage must be an object")
    values: dict[str, Any] = {}
    for name in Usage.__dataclass_fields__:
        value = raw.get(name)
        if name == "estimated":
            values[name] = bool(value)
            continue
        _need(value is None or (isinstance(value, int) and not isinstance(value, bool)
                                and value >= 0), f"{where}/{name}",
              "token counts must be whole numbers of 0 or more")
        values[name] = value
    return Usage(**values)


def _message(raw: Any, where: str) -> Message:
    _need(isinstance(raw, dict), where, "a message must be an object")
    _need(raw.get("role") in ("system", "user", "assistant", "tool"), where,
          f"unknown role {raw.get('role')!r}")
    _need(isinstance(raw.get("content", ""), str), where, "content must be text")
    calls = raw.get("tool_calls") or []
    _need(isinstance(calls, list), where, "tool_calls must be a list")
    tool_calls = []
    for index, call in enumerate(calls):
        _need(isinstance(call, dict) and isinstance(call.get("id"), str)
              and isinstance(call.get("name"), str)
              and isinstance(call.get("arguments", ""), str),
              f"{where}/tool_calls/{index}", "a tool call needs id, name and arguments text")
        tool_calls.append(ToolCall(call["id"], call["name"], call.get("arguments", "")))
    return Message(
        role=raw["role"], content=raw.get("content", ""), tool_calls=tool_calls,
        tool_call_id=raw.get("tool_call_id"), name=raw.get("name"),
        is_error=bool(raw.get("is_error", False)), reasoning=raw.get("reasoning") or "",
        usage=_usage(raw.get("usage"), f"{where}/usage"),
        finish_reason=raw.get("finish_reason"), exchange_id=raw.get("exchange_id"),
        id=new_id("msg_"),
    )


_NUMBER = (int, float)
_EXCHANGE_FIELDS: dict[str, Any] = {
    "id": str, "provider": str, "model": str, "base_url": str, "request_body": dict,
    "stream": bool, "started_at": _NUMBER,
}
_OPTIONAL_FIELDS: dict[str, Any] = {
    "status": int, "request_id": str, "transcript": str, "error": str, "error_kind": str,
    "first_byte_at": _NUMBER, "first_token_at": _NUMBER, "ended_at": _NUMBER,
    "request_headers": dict, "response_headers": dict, "url": str, "wire": str,
    "copied_from": str,
}


def _attempt(raw: Any, where: str) -> Attempt:
    _need(isinstance(raw, dict) and isinstance(raw.get("started_at"), _NUMBER), where,
          "an attempt needs started_at")
    return Attempt(started_at=raw["started_at"],
                   status=raw.get("status") if isinstance(raw.get("status"), int) else None,
                   error=raw.get("error") if isinstance(raw.get("error"), str) else None,
                   retry_after_s=raw.get("retry_after_s")
                   if isinstance(raw.get("retry_after_s"), _NUMBER) else None,
                   answered_at=raw.get("answered_at")
                   if isinstance(raw.get("answered_at"), _NUMBER) else None)


def _exchange(raw: Any, where: str) -> Exchange:
    """Every field checked for its type: a file is untrusted input."""
    _need(isinstance(raw, dict), where, "an exchange must be an object")
    values: dict[str, Any] = {}
    for key, kind in _EXCHANGE_FIELDS.items():
        _need(isinstance(raw.get(key), kind), where, f"{key} is missing or of the wrong type")
        values[key] = raw[key]
    for key, kind in _OPTIONAL_FIELDS.items():
        if raw.get(key) is not None:
            _need(isinstance(raw[key], kind), where, f"{key} is of the wrong type")
            values[key] = raw[key]
    values["response_body"] = raw.get("response_body")
    attempts = raw.get("attempts") or []
    _need(isinstance(attempts, list), where, "attempts must be a list")
    return Exchange(**values, attempts=[_attempt(a, f"{where}/attempts/{i}")
                                        for i, a in enumerate(attempts)],
                    usage=_usage(raw.get("usage"), f"{where}/usage"))


def parse_session_file(data: bytes) -> tuple[dict[str, Any], Conversation]:
    """Validate an export; (session fields, conversation with fresh ids) or SessionFileError."""
    if len(data) > MAX_IMPORT_BYTES:
        raise SessionFileError(f"the file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise SessionFileError("the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SessionFileError(f"not valid JSON (truncated?): {exc.msg} (line {exc.lineno}, "
                               f"column {exc.colno})") from None
    _need(isinstance(document, dict) and document.get("format") == FORMAT, "/format",
          f"this is not a Toolsmith session export (expected format {FORMAT!r})")
    _need(document.get("version") == VERSION, "/version",
          f"unsupported version {document.get('version')!r} (this Toolsmith reads {VERSION})")
    session = document.get("session")
    _need(isinstance(session, dict) and isinstance(session.get("title"), str), "/session",
          "session with a title is missing")
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
    store.record(conversation, provider=session.get("provider"), model=session.get("model"),
                 settings=session.get("settings"), tools=session.get("tools"),
                 title=session["title"])
    return conversation.id
