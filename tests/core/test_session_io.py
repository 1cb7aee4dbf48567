"""core.session_io: one session as one JSON file and back, on a real store.

A round trip keeps every message, tool call, result, tool, exchange and usage figure, with fresh
ids; a wrong, truncated or oversized file raises SessionFileError saying what is wrong and
leaves the database exactly as it was.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.conversation import Conversation
from core.session_io import (
    FORMAT,
    MAX_IMPORT_BYTES,
    VERSION,
    SessionFileError,
    dumps,
    export_session,
    import_session,
    parse_session_file,
)
from core.store import Store
from core.usage import exchanges_frame
from core.wire.openai_chat import tool_to_wire
from tests.support.history import (
    BACKENDS,
    WEATHER,
    Backend,
    backend,
    rich_conversation,
    snapshot,
)

SETTINGS = {"model": "gpt-4o-2024-08-06", "stream": True, "system_prompt": "Be brief.",
            "temperature": 0.3, "max_tokens": None, "tool_choice": "auto",
            "parallel_tool_calls": None, "base_url": "https://api.openai.com/v1"}


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def store(db: Backend) -> Store:
    return db.open()


@pytest.fixture
def source(store: Store) -> Conversation:
    conversation = rich_conversation()
    store.record(conversation, provider="api.openai.com", model="gpt-4o-2024-08-06",
                 settings=SETTINGS, tools=[tool_to_wire(WEATHER)])
    store.rename(conversation.id, "Zürich and 東京 — weather")
    return conversation


def exported_bytes(store: Store, session_id: str) -> bytes:
    return dumps(export_session(store, session_id)).encode("utf-8")


def without_ids(document: dict[str, Any]) -> dict[str, Any]:
    """The export with every id replaced by its position, so two exports can be compared."""
    document = copy.deepcopy(document)
    exchange_index = {e["id"]: i for i, e in enumerate(document["exchanges"])}
    for key in ("id", "created_at", "updated_at"):
        document["session"].pop(key)
    for message in document["messages"]:
        message.pop("id")
        if message["exchange_id"] is not None:
            message["exchange_id"] = f"exchange #{exchange_index[message['exchange_id']]}"
    for exchange in document["exchanges"]:
        exchange.pop("id")
        exchange.pop("copied_from", None)  # set on a re-import of a stored request
    return document


# --- Round trip --------------------------------------------------------------------------------

def test_export_is_one_json_document_with_everything(store: Store, source: Conversation) -> None:
    data = exported_bytes(store, source.id)
    document = json.loads(data)
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    session = document["session"]
    assert session["id"] == source.id
    assert session["title"] == "Zürich and 東京 — weather"
    assert (session["provider"], session["model"]) == ("api.openai.com", "gpt-4o-2024-08-06")
    assert session["settings"] == SETTINGS
    assert session["tools"] == [tool_to_wire(WEATHER)]
    assert [m["id"] for m in document["messages"]] == [m.id for m in source.messages]
    assert [e["id"] for e in document["exchanges"]] == list(source.exchanges)
    tool_calls = document["messages"][1]["tool_calls"]
    assert [c["id"] for c in tool_calls] == ["call_a1", "call_b2"]
    assert document["messages"][1]["usage"]["cached_tokens"] == 1024
    assert document["exchanges"][0]["attempts"][0]["retry_after_s"] == 0.5
    assert "東京" in data.decode("utf-8")  # readable text, not \\u escapes


def test_export_then_import_round_trip(store: Store, source: Conversation) -> None:
    original = export_session(store, source.id)

    new_id = import_session(store, exported_bytes(store, source.id))

    assert new_id != source.id
    imported = store.load(new_id)
    assert imported is not None
    # Fresh ids everywhere...
    old_ids = {m.id for m in source.messages} | set(source.exchanges)
    new_ids = {m.id for m in imported.messages} | set(imported.exchanges)
    assert len(new_ids) == len(old_ids)
    assert not old_ids & new_ids
    # ...and the same content, message links to exchanges included.
    again = export_session(store, new_id)
    assert without_ids(again) == without_ids(original)
    for copied, message in zip(imported.messages, source.messages, strict=True):
        assert replace(copied, id=message.id, exchange_id=message.exchange_id) == message
        assert (copied.exchange_id is None) == (message.exchange_id is None)
    for copied, exchange in zip(imported.exchanges.values(), source.exchanges.values(),
                                strict=True):
        assert replace(copied, id=exchange.id, copied_from=None) == exchange
        assert copied.copied_from == exchange.id  # the same request, so usage counts it once
    info, source_info = store.session_info(new_id), store.session_info(source.id)
    assert info is not None and source_info is not None
    assert (info.title, info.messages, info.requests, info.tokens) == (
        source_info.title, source_info.messages, source_info.requests, source_info.tokens)
    # The source is still there, unchanged.
    assert store.load(source.id) == source


def test_usage_counts_each_request_once_however_often_it_is_imported(
    store: Store, source: Conversation, tmp_path: Path,
) -> None:
    data = exported_bytes(store, source.id)
    requests = len(exchanges_frame(store))
    assert requests == len(source.exchanges)
    import_session(store, data)
    import_session(store, data)
    assert len(exchanges_frame(store)) == requests  # the same requests, not new ones
    store.delete(source.id)  # the original goes; its copies still count, once
    assert len(exchanges_frame(store)) == requests

    with backend("sqlite", tmp_path / "elsewhere") as other_db:
        other = other_db.open()
        import_session(other, data)
        import_session(other, data)
        assert len(exchanges_frame(other)) == requests
        other.engine.dispose()


def test_importing_twice_gives_two_sessions(store: Store, source: Conversation) -> None:
    data = exported_bytes(store, source.id)
    first, second = import_session(store, data), import_session(store, data)
    assert len({first, second, source.id}) == 3
    assert len(store.list_sessions()) == 3


def test_import_into_another_database(store: Store, source: Conversation,
                                      tmp_path: Path) -> None:
    data = exported_bytes(store, source.id)
    with backend("sqlite", tmp_path / "other") as other_db:
        other = other_db.open()
        new_id = import_session(other, data)
        assert without_ids(export_session(other, new_id)) == without_ids(
            export_session(store, source.id))


def test_an_export_from_before_migration_3_imports(store: Store, source: Conversation) -> None:
    """Exchange fields added later (url, response headers) may be missing from older files."""
    document = export_session(store, source.id)
    for exchange in document["exchanges"]:
        exchange.pop("url", None)
        exchange.pop("response_headers", None)
    new_id = import_session(store, dumps(document).encode())
    imported = store.load(new_id)
    assert imported is not None
    assert [e.url for e in imported.exchanges.values()] == ["", "", ""]
    assert [e.usage for e in imported.exchanges.values()] == [
        e.usage for e in source.exchanges.values()]


def test_export_of_an_unknown_session_raises_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        export_session(store, "ses_missing")


# --- Bad files -----------------------------------------------------------------------------------

def edited(data: bytes, change: Any) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document).encode()


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(document: Any) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(path: tuple[Any, ...]) -> Any:
    def change(document: Any) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BAD_FILES: dict[str, tuple[Any, str]] = {
    # name: (how to make it from a good export, words the error must say)
    "not JSON": (lambda good: b"this is not json at all", "not valid JSON"),
    "empty file": (lambda good: b"", "not valid JSON"),
    "truncated JSON": (lambda good: good[: len(good) // 2], "not valid JSON (truncated?)"),
    "cut inside a UTF-8 character": (
        lambda good: good[: good.index("東".encode()) + 1], "not UTF-8 text"),
    "a JSON list": (lambda good: b"[1, 2, 3]", "not a Toolsmith session export"),
    "wrong format marker": (lambda good: edited(good, _set(("format",), "toolsmith.tool")),
                            "not a Toolsmith session export"),
    "no format marker": (lambda good: edited(good, _drop(("format",))),
                         "not a Toolsmith session export"),
    "wrong version": (lambda good: edited(good, _set(("version",), 2)),
                      "unsupported version 2"),
    "no session title": (lambda good: edited(good, _drop(("session", "title"))),
                         "session with a title is missing"),
    "messages not a list": (lambda good: edited(good, _set(("messages",), {"0": "hi"})),
                            "messages must be a list"),
    "a message with a bad role": (lambda good: edited(good, _set(("messages", 2, "role"), "robot")),
                                  "/messages/2: unknown role 'robot'"),
    "a message with non-text content": (
        lambda good: edited(good, _set(("messages", 0, "content"), ["hi"])),
        "/messages/0: content must be text"),
    "a tool call without id": (
        lambda good: edited(good, _drop(("messages", 1, "tool_calls", 1, "id"))),
        "/messages/1/tool_calls/1: a tool call needs id, name and arguments text"),
    "tool call arguments as an object": (
        lambda good: edited(good, _set(("messages", 1, "tool_calls", 0, "arguments"), {})),
        "/messages/1/tool_calls/0: a tool call needs id, name and arguments text"),
    "an exchange without a request body": (
        lambda good: edited(good, _drop(("exchanges", 1, "request_body"))),
        "/exchanges/1: request_body is missing or of the wrong type"),
    "usage that is not an object": (
        lambda good: edited(good, _set(("messages", 1, "usage"), 1500)),
        "/messages/1/usage: usage must be an object"),
    "oversized": (lambda good: good + b" " * (MAX_IMPORT_BYTES + 1 - len(good)),
                  f"larger than {MAX_IMPORT_BYTES // 1_000_000} MB"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_refused_and_changes_nothing(store: Store, source: Conversation,
                                                   name: str) -> None:
    make, words = BAD_FILES[name]
    data = make(exported_bytes(store, source.id))
    before = snapshot(store)
    with pytest.raises(SessionFileError) as caught:
        import_session(store, data)
    assert words in str(caught.value)
    assert snapshot(store) == before


def test_the_size_limit_is_exact(store: Store, source: Conversation) -> None:
    """A file of exactly MAX_IMPORT_BYTES is read (padding after the JSON is whitespace)."""
    good = exported_bytes(store, source.id)
    at_limit = good + b" " * (MAX_IMPORT_BYTES - len(good))
    assert len(at_limit) == MAX_IMPORT_BYTES
    session, conversation = parse_session_file(at_limit)
    assert session["title"] == "Zürich and 東京 — weather"
    assert len(conversation.messages) == len(source.messages)
    with pytest.raises(SessionFileError, match="larger than 20 MB"):
        parse_session_file(at_limit + b" ")


@pytest.mark.parametrize("change", [
    pytest.param(_drop(("exchanges", 0, "attempts", 0, "started_at")),
                 id="attempt without started_at"),
    pytest.param(_drop(("exchanges", 0, "stream")), id="exchange without stream"),
    pytest.param(_set(("exchanges", 0, "stream"), "yes"), id="stream that is not a boolean"),
])
def test_malformed_exchange_details_are_a_session_file_error(
    store: Store, source: Conversation, change: Any,
) -> None:
    data = edited(exported_bytes(store, source.id), change)
    before = snapshot(store)
    with pytest.raises(SessionFileError, match=r"/exchanges/0"):
        import_session(store, data)
    assert snapshot(store) == before


def test_unknown_fields_of_an_attempt_are_ignored(store: Store, source: Conversation) -> None:
    """A field this version does not know (from a later one) is skipped, not fatal."""
    data = edited(exported_bytes(store, source.id),
                  _set(("exchanges", 0, "attempts", 0, "headers"), {"x": "y"}))
    imported = store.load(import_session(store, data))
    assert imported is not None
    assert len(imported.exchanges) == len(source.exchanges)


def test_usage_figures_must_be_numbers(store: Store, source: Conversation) -> None:
    data = edited(exported_bytes(store, source.id),
                  _set(("exchanges", 0, "usage", "total_tokens"), "lots"))
    before = snapshot(store)
    with pytest.raises(SessionFileError):
        import_session(store, data)
    assert snapshot(store) == before


def test_a_tool_result_that_answers_no_call_is_refused(store: Store, source: Conversation) -> None:
    document = json.loads(exported_bytes(store, source.id))
    document["messages"] = [{**document["messages"][0], "role": "tool", "tool_call_id": None}]
    with pytest.raises(SessionFileError) as caught:
        parse_session_file(json.dumps(document).encode())
    assert "/messages/0" in str(caught.value) and "answers no earlier tool call" in str(
        caught.value)


# --- Hostile files (the security review's imports): refused before anything is written -------

def _deep(levels: int) -> Any:
    """A response body nested `levels` deep (written as text: json.dumps cannot)."""
    return _set(("exchanges", 0, "response_body"), f"@@DEEP{levels}@@")


def _expand_deep(data: bytes) -> bytes:
    return re.sub(rb'"@@DEEP(\d+)@@"', lambda m: b"[" * int(m[1]) + b"]" * int(m[1]), data)


HOSTILE: dict[str, tuple[Any, str]] = {
    # name: (change to a good export, words the error must say)
    "exchange_id a list": (_set(("messages", 1, "exchange_id"), ["x"]),
                           "/messages/1: exchange_id must be text"),
    "status of 10**30": (_set(("exchanges", 0, "status"), 10**30), "too large"),
    "status out of range": (_set(("exchanges", 0, "status"), 70_000),
                            "/exchanges/0: status must be an HTTP status (100-599)"),
    "attempt status of 10**30": (_set(("exchanges", 0, "attempts", 0, "status"), 10**30),
                                 "too large"),
    "attempt status as text": (_set(("exchanges", 0, "attempts", 0, "status"), "500"),
                               "/exchanges/0/attempts/0: status must be"),
    "token count of 10**30": (_set(("messages", 1, "usage", "prompt_tokens"), 10**30),
                              "too large"),
    "token count of 10**15": (_set(("exchanges", 0, "usage", "total_tokens"), 10**15),
                              "/exchanges/0/usage/total_tokens: token counts must be whole "
                              "numbers from 0 to"),
    "estimated as text": (_set(("exchanges", 0, "usage", "estimated"), "no"),
                          "/exchanges/0/usage: estimated must be true or false"),
    "nested 5,000 deep": (_deep(5_000), "nested deeper than"),
    "nested 200 deep": (_deep(200), "nested deeper than 100 levels"),
    "session provider a number": (_set(("session", "provider"), 5),
                                  "/session: provider must be text"),
    "session model a list": (_set(("session", "model"), ["m"]), "/session: model must be text"),
    "settings a list": (_set(("session", "settings"), [1]),
                        "/session/settings: must be an object"),
    "temperature out of range": (_set(("session", "settings", "temperature"), 1e300),
                                 "/session/settings/temperature"),
    "max_tokens as text": (_set(("session", "settings", "max_tokens"), "many"),
                           "/session/settings/max_tokens"),
    "tools not a list": (_set(("session", "tools"), {"a": 1}), "/session/tools: must be a list"),
    "reasoning a number": (_set(("messages", 4, "reasoning"), 5),
                           "/messages/4: reasoning must be text"),
    "is_error as text": (_set(("messages", 2, "is_error"), "yes"),
                         "/messages/2: is_error must be true or false"),
    "tool_call_id on a user message": (_set(("messages", 0, "tool_call_id"), "call_a1"),
                                       "/messages/0: only a tool result answers a call"),
    "tool_call_id a number": (_set(("messages", 2, "tool_call_id"), 5),
                              "/messages/2: tool_call_id must be text"),
    "name a dict": (_set(("messages", 2, "name"), {"a": 1}), "/messages/2: name must be text"),
    "finish_reason a number": (_set(("messages", 1, "finish_reason"), 7),
                               "/messages/1: finish_reason must be text"),
    "a huge call id": (_set(("messages", 1, "tool_calls", 0, "id"), "c" * 1_000),
                       "/messages/1/tool_calls/0: the id is longer than 200 characters"),
    "title of 3,000 characters": (_set(("session", "title"), "T" * 3_000),
                                  "/session/title: longer than 200 characters"),
    "title with an RTL override": (_set(("session", "title"), "invoice\u202egnp.exe"),
                                   "/session/title: control or direction characters"),
    "title with a newline": (_set(("session", "title"), "two\nlines"),
                             "/session/title: control or direction characters"),
    "response header not text": (_set(("exchanges", 0, "response_headers"), {"x": 5}),
                                 "/exchanges/0: response_headers must map text to text"),
    "retry_after_s negative": (_set(("exchanges", 0, "attempts", 0, "retry_after_s"), -5),
                               "/exchanges/0/attempts/0: retry_after_s"),
}
TIMES = {"1e20": 1e20, "1e300": 1e300, "-1e12": -1e12, "-1": -1}
for label, when in TIMES.items():
    HOSTILE[f"started_at {label}"] = (_set(("exchanges", 0, "started_at"), when),
                                      "/exchanges/0: started_at must be a time")
    HOSTILE[f"ended_at {label}"] = (_set(("exchanges", 1, "ended_at"), when),
                                    "/exchanges/1: ended_at must be a time")
    HOSTILE[f"answered_at {label}"] = (_set(("exchanges", 0, "attempts", 0, "answered_at"),
                                            when), "/exchanges/0/attempts/0: answered_at")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_import_is_refused_whole_with_a_message(store: Store, source: Conversation,
                                                          name: str) -> None:
    change, words = HOSTILE[name]
    data = _expand_deep(edited(exported_bytes(store, source.id), change))
    before = snapshot(store)
    with pytest.raises(SessionFileError) as caught:
        import_session(store, data)
    assert words in str(caught.value)
    assert snapshot(store) == before


@pytest.mark.parametrize("text", ["Infinity", "NaN", "-Infinity", "1e400"])
def test_non_finite_times_are_refused(store: Store, source: Conversation, text: str) -> None:
    data = exported_bytes(store, source.id).decode()
    document = json.loads(data)
    started = json.dumps(document["exchanges"][0]["started_at"])
    data = data.replace(f'"started_at": {started}', f'"started_at": {text}', 1)
    before = snapshot(store)
    with pytest.raises(SessionFileError, match="finite"):
        import_session(store, data.encode())
    assert snapshot(store) == before


def test_values_at_the_limits_import(store: Store, source: Conversation) -> None:
    document = json.loads(exported_bytes(store, source.id))
    document["session"]["title"] = "Zürich " + "x" * 193  # 200 characters
    document["exchanges"][0]["usage"]["total_tokens"] = 2**31 - 1
    document["exchanges"][0]["started_at"] = 0.0
    imported = store.session_row(import_session(store, json.dumps(document).encode()))
    assert imported is not None and imported["title"] == document["session"]["title"]


def test_an_export_from_before_provider_meant_the_server_is_read_in_todays_terms(
        store: Store, source: Conversation) -> None:
    """Older exports named the wire format as provider: it becomes the wire, and provider the
    server (the base URL's host), as store migration 8 did to stored rows."""
    document = json.loads(exported_bytes(store, source.id))
    document["session"]["provider"] = "openai"
    for exchange in document["exchanges"]:
        exchange["provider"] = "openai"
        exchange.pop("wire", None)
    new_id = import_session(store, json.dumps(document).encode("utf-8"))
    loaded = store.load(new_id)
    assert loaded is not None
    assert {(e.provider, e.wire) for e in loaded.exchanges.values()} == {
        ("api.openai.com", "openai")}
    assert store.session_row(new_id)["provider"] == "api.openai.com"
