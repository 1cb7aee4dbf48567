"""The test server itself: other suites (browser, benchmarks) rely on these promises.

It must frame responses correctly, record requests, follow a script, never hang a run on a
stalled reply, and run standalone from the command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.support.sse_fixtures import load_fixture
from tests.support.wire_server import (
    ECHO_CHUNK_KEY_AT,
    ECHO_KEY_AT,
    FAULTS,
    MODELS,
    SCHEMA_BREAKING_ARGUMENTS,
    Reply,
    WireServer,
    fixture_reply,
    json_reply,
)

ROOT = Path(__file__).resolve().parents[3]


_CLIENT = httpx.Client(timeout=5.0)  # one client: building one loads an SSL context (~0.1 s)


def post(server: WireServer, body: dict, *, timeout: float = 5.0) -> httpx.Response:
    return _CLIENT.post(f"{server.base_url}/chat/completions", json=body, timeout=timeout)


def test_listens_on_a_free_local_port(wire_server: WireServer) -> None:
    assert wire_server.host == "127.0.0.1"
    assert wire_server.port > 0
    assert wire_server.base_url == f"http://127.0.0.1:{wire_server.port}/v1"


def test_models_and_unknown_paths(wire_server: WireServer) -> None:
    assert _CLIENT.get(f"{wire_server.base_url}/models").json() == MODELS
    missing = _CLIENT.get(f"{wire_server.base_url}/embeddings")
    assert missing.status_code == 404
    assert "Invalid URL" in missing.json()["error"]["message"]


def test_records_every_request(wire_server: WireServer) -> None:
    _CLIENT.get(f"{wire_server.base_url}/models", headers={"X-Probe": "1"})
    post(wire_server, {"model": "m", "messages": []})
    first, second = wire_server.requests
    assert (first.method, first.path, first.headers["x-probe"]) == ("GET", "/v1/models", "1")
    assert second.json == {"model": "m", "messages": []}
    assert wire_server.chat_requests == [second]


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_fixture_arrives_byte_exact_in_every_framing(wire_server: WireServer,
                                                     framing: str) -> None:
    wire_server.script(fixture_reply("crlf_line_endings", framing=framing))
    response = post(wire_server, {"model": "m", "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content == load_fixture("crlf_line_endings")


def test_script_answers_the_next_posts_in_order(wire_server: WireServer) -> None:
    wire_server.script(json_reply({"n": 1}), json_reply({"n": 2}, status=418))
    answers = [post(wire_server, {"model": "fault-500"}) for _ in range(3)]
    assert [(a.status_code, a.json().get("n")) for a in answers] == [
        (200, 1), (418, 2), (500, None)]  # then back to choosing by model


def test_then_ok_faults_count_per_model(wire_server: WireServer) -> None:
    statuses = [post(wire_server, {"model": m, "messages": []}).status_code
                for m in ("fault-500-then-ok", "fault-429-then-ok", "fault-500-then-ok")]
    assert statuses == [500, 429, 200]


def test_unknown_fault_lists_the_known_ones(wire_server: WireServer) -> None:
    response = post(wire_server, {"model": "fault-nope"})
    assert response.status_code == 400
    assert "fault-429-then-ok" in response.json()["error"]["message"]


def test_every_fault_answers_something_or_stalls(wire_server: WireServer) -> None:
    """No fault crashes the handler (a crash would show as a bare connection reset)."""
    for name in sorted(FAULTS):
        if name in ("fault-stall", "fault-no-answer", "fault-keepalive-only", "fault-trickle"):
            continue  # these never end: test_hostile_streams reads them with a deadline
        for stream in (True, False):
            try:
                post(wire_server, {"model": name, "stream": stream, "messages": []})
            except httpx.RemoteProtocolError:
                assert name.startswith(("fault-cut", "fault-trailer-cut")), name
            except httpx.DecodingError:
                assert name == "fault-lying-gzip"


def test_stop_releases_a_stalled_reply() -> None:
    """A test that fails while a stall is pending must not hang the run."""
    server = WireServer().start()
    outcome: list[str] = []

    def client() -> None:
        try:
            post(server, {"model": "fault-no-answer"}, timeout=60)
            outcome.append("answered")
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    while not server.requests:  # the request has reached the handler
        thread.join(0.01)
    server.stop()
    thread.join(10)
    assert not thread.is_alive(), "the stalled handler kept the client waiting after stop()"
    assert outcome == ["RemoteProtocolError"]


def test_cut_reply_closes_without_the_chunked_terminator(wire_server: WireServer) -> None:
    wire_server.script(Reply(body=b"data: {}\n\n" * 10, framing="chunked", cut_after=25,
                             content_type="text/event-stream"))
    with pytest.raises(httpx.RemoteProtocolError):
        post(wire_server, {"model": "m", "stream": True})


def test_runs_standalone() -> None:
    """`python -m tests.support.wire_server --port 0` prints its URL and serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.wire_server", "--port", "0"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("wire server: http://127.0.0.1:"), line
        base_url = line.split(": ", 1)[1].strip()
        assert _CLIENT.get(f"{base_url}/models").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_then_ok_argument_faults_answer_normally_after_the_first(
        wire_server: WireServer) -> None:
    for model, fault_call in (("fault-bad-args-then-ok", "call_Ba0Dd1Ar2Gs3Xx4Yy5Zz6Ww7"),
                              ("fault-schema-args-then-ok", "call_Sc0Hm1Ea2Br3Ea4Ks5Ar6Gs")):
        first = post(wire_server, {"model": model, "stream": True, "messages": []})
        assert fault_call in first.text
        again = post(wire_server, {"model": model, "messages": []})
        assert again.json()["choices"][0]["message"]["tool_calls"][0]["id"] == \
            "call_4yKljCtGceYj1heJY8G9h3te"  # the weather model's ordinary tool call


@pytest.mark.parametrize("stream", [True, False])
def test_schema_breaking_arguments_parse_but_break_the_schema(wire_server: WireServer,
                                                              stream: bool) -> None:
    response = post(wire_server, {"model": "fault-schema-args", "stream": stream,
                                  "messages": []})
    if stream:
        pieces = [json.loads(line[6:]) for line in response.text.splitlines()
                  if line.startswith("data: {")]
        arguments = "".join(c["choices"][0]["delta"].get("tool_calls", [{}])[0]
                            .get("function", {}).get("arguments", "")
                            for c in pieces if c["choices"])
        assert response.text.endswith("data: [DONE]\n\n")
    else:
        arguments = response.json()["choices"][0]["message"]["tool_calls"][0][
            "function"]["arguments"]
    assert arguments == SCHEMA_BREAKING_ARGUMENTS
    assert json.loads(arguments) == {"location": 42, "unit": "kelvin"}


def test_429_1s_then_ok(wire_server: WireServer) -> None:
    first = post(wire_server, {"model": "fault-429-1s-then-ok", "messages": []})
    assert (first.status_code, first.headers["retry-after"]) == (429, "1")
    assert post(wire_server, {"model": "fault-429-1s-then-ok", "messages": []}) \
        .status_code == 200


@pytest.mark.parametrize(("headers", "key"), [
    ({"Authorization": "Bearer sk-test-ECHO-1"}, "sk-test-ECHO-1"),
    ({"x-api-key": "sk-ant-ECHO-2"}, "sk-ant-ECHO-2"),
])
def test_echo_key_faults_quote_the_presented_key(wire_server: WireServer,
                                                 headers: dict, key: str) -> None:
    url = f"{wire_server.base_url}/chat/completions"
    refused = _CLIENT.post(url, json={"model": "fault-401-echo-key", "messages": []},
                           headers=headers)
    assert refused.status_code == 401
    assert key in refused.json()["error"]["message"]
    streamed = _CLIENT.post(url, json={"model": "fault-stream-error-echo-key", "stream": True,
                                       "messages": []}, headers=headers)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert f"Quota exceeded for key {key}." in streamed.text


def test_unknown_fault_lists_the_request_faults_too(wire_server: WireServer) -> None:
    message = post(wire_server, {"model": "fault-nope"}).json()["error"]["message"]
    assert "fault-401-echo-key" in message and "fault-400" in message


def test_clear_script_drops_unused_replies(wire_server: WireServer) -> None:
    wire_server.script(json_reply({"n": 1}, status=418))
    wire_server.clear_script()
    assert post(wire_server, {"model": "fault-404"}).status_code == 404


@pytest.mark.parametrize(("model", "status", "content_type"), [
    ("fault-403-echo-key-text", 403, "text/plain"),
    ("fault-200-echo-key-text", 200, "application/json"),
])
def test_text_echo_puts_the_key_at_a_known_offset(wire_server: WireServer, model: str,
                                                  status: int, content_type: str) -> None:
    response = _CLIENT.post(f"{wire_server.base_url}/chat/completions",
                            json={"model": model, "messages": []},
                            headers={"Authorization": "Bearer sk-test-ECHO-3"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith(content_type)
    assert response.text.index("sk-test-ECHO-3") == ECHO_KEY_AT


def test_non_json_chunk_echo_puts_the_key_at_a_known_offset(wire_server: WireServer) -> None:
    response = _CLIENT.post(f"{wire_server.base_url}/chat/completions",
                            json={"model": "fault-not-json-echo-key", "stream": True,
                                  "messages": []},
                            headers={"Authorization": "Bearer sk-test-ECHO-4"})
    assert response.status_code == 200
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert json.loads(events[0])["object"] == "chat.completion.chunk"
    assert events[1].index("sk-test-ECHO-4") == ECHO_CHUNK_KEY_AT
    assert events[-1] == "[DONE]"
