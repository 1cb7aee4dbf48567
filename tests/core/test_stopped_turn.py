"""A turn ended early (Stop, a closed tab) against a real local server: what arrived is kept,
the exchange is marked, a cancelled stream stops reading, and the key stays out."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace

from core.config import Endpoint
from core.stopped_turn import stopped_turn
from core.turn import TurnCancelled, TurnWatch, run_turn
from core.types import ChatSettings, Message
from tests.support.wire_server import WireServer, text_completion

STORY = "Once upon a time there was a model that streamed and streamed"
KEY = "sk-test-STOPPED-5b1e77aa"


def stalling_story(wire: WireServer) -> None:
    """The story streams up to "time", then the server goes quiet (until it stops)."""
    reply = text_completion(STORY, stream=True, model="m")
    cut = reply.body.index(b"\n\n", reply.body.index(b'"time ')) + 2
    wire.script(replace(reply, stall_after=cut))


def test_a_stopped_stream_keeps_what_arrived() -> None:
    with WireServer() as wire:
        stalling_story(wire)
        endpoint = Endpoint("custom", wire.base_url, "m", api_key=KEY)
        watch = TurnWatch()
        arrived = threading.Event()
        outcome: list[BaseException | object] = []

        def progress(acc) -> None:
            if "time" in acc.text():
                arrived.set()

        def work() -> None:
            try:
                outcome.append(run_turn(endpoint, [Message(role="user", content="a story")], [],
                                        ChatSettings(model="m"), on_progress=progress,
                                        watch=watch))
            except TurnCancelled as exc:
                outcome.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        assert arrived.wait(10)
        result = stopped_turn(watch, "stopped", KEY)
        assert result is not None and result.message is not None
        assert result.message.content == "Once upon a time "
        assert result.message.finish_reason == "stopped"
        assert result.message.tool_calls == []
        exchange = result.exchange
        assert exchange.error_kind == "stopped"
        assert exchange.response_body["content"] == "Once upon a time "
        assert "Once" in (exchange.transcript or "")
        assert exchange.ended_at is not None
        assert watch.cancelled.is_set()
    # The server stopped: the worker's read ends, and it neither answers nor hangs.
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and not isinstance(outcome[0], Message)


def test_nothing_arrived_yet_records_the_request_without_a_message() -> None:
    watch = TurnWatch()
    assert stopped_turn(watch, "interrupted") is None  # not even begun: nothing to record
    with WireServer() as wire:
        wire.script(replace(text_completion(STORY, stream=True, model="m"), stall_after=0))
        endpoint = Endpoint("custom", wire.base_url, "m")
        worker = threading.Thread(target=lambda: _swallow(run_turn, endpoint, watch))
        worker.start()
        while watch.exchange is None and worker.is_alive():
            worker.join(0.01)
        result = stopped_turn(watch, "interrupted")
        assert result is not None
        assert result.message is None
        assert result.exchange.error_kind == "interrupted"
        assert "tab closed" in (result.exchange.error or "")
    worker.join(10)


def _swallow(run, endpoint: Endpoint, watch: TurnWatch) -> None:
    with contextlib.suppress(TurnCancelled):
        run(endpoint, [Message(role="user", content="hi")], [], ChatSettings(model="m"),
            watch=watch)
