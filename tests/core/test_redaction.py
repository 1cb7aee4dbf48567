"""A key the server echoes back is redacted from every field kept or shown: response headers,
the request id, the message text, reasoning and tool-call arguments (also when the key arrives
split across two stream chunks), the transcript and the stored session.

Real HTTP against the local wire server's `fault-echo-key-everywhere`, which quotes the key it
was sent everywhere a server can.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from core.config import REDACTED, Endpoint
from core.conversation import Conversation
from core.redaction import redact_text
from core.store import Store
from core.turn import client_for, run_turn
from core.types import ChatSettings, Message
from core.wire.http import RetryPolicy, Timeouts
from tests.support.history import marker_hits
from tests.support.wire_server import WireServer

KEY = "sk-test-ECHOED-0a1b2c3d4e5f6a7b8c9d"


@pytest.fixture(scope="module")
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_an_echoed_key_is_redacted_everywhere(server: WireServer, tmp_path: Path,
                                              stream: bool) -> None:
    endpoint = Endpoint(preset="custom", base_url=server.base_url,
                        model="fault-echo-key-everywhere", api_key=KEY,
                        timeouts=Timeouts(connect=5.0, idle=10.0), retry=RetryPolicy())
    with client_for(endpoint.timeouts, demo=False) as client:
        result = run_turn(endpoint, [Message(role="user", content="Weather?")], [],
                          ChatSettings(model=endpoint.model, stream=stream), client=client)
    assert result.error is None, result.error
    message, exchange = result.message, result.exchange
    assert message is not None
    assert KEY not in repr(asdict(exchange)), "the exchange keeps the key"
    assert KEY not in repr(asdict(message)), "the message keeps the key"
    assert message.content == f"Your key is {REDACTED}."
    assert REDACTED in message.reasoning
    assert REDACTED in message.tool_calls[0].arguments
    assert message.tool_calls[0].parsed_arguments()[0] == {"location": f"Boston {REDACTED}"}
    assert exchange.request_id is not None and REDACTED in exchange.request_id
    assert exchange.response_headers["openai-model"] == REDACTED
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    conversation = Conversation(messages=[Message(role="user", content="Weather?"), message])
    conversation.exchanges[exchange.id] = exchange
    store.record(conversation)
    assert marker_hits(store, KEY) == []
    # Split across two chunks, each half sits in its own event of the raw transcript.
    assert marker_hits(store, KEY[:14]) == [] and marker_hits(store, KEY[-14:]) == []


@pytest.mark.parametrize(("text", "expected"), [
    (f"a {KEY} b", f"a {REDACTED} b"),
    (f'"{KEY[:20]}"}}\n\ndata: {{"c": "{KEY[20:]}"',
     f'"{REDACTED}"}}\n\ndata: {{"c": "{REDACTED}"'),
    (f"x{KEY[5:25]}y", f"x{REDACTED}y"),  # a middle piece
    (f"{KEY[:10]} and {KEY[-10:]}", f"{KEY[:10]} and {KEY[-10:]}"),  # too short to matter
    ("nothing here", "nothing here"),
    (KEY + KEY, REDACTED + REDACTED),
])
def test_redact_text_finds_the_key_whole_and_in_pieces(text: str, expected: str) -> None:
    assert redact_text(text, KEY) == expected
