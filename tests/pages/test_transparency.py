"""Request transparency on the Chat page (issue 4), through AppTest on the real app.py.

- The code the page shows (inspector of a past exchange, and the next request) is run as
  shown — curl, the venv's python, node — against the same local server, with the key only
  in the subprocess environment: the server must receive the body the app sent.
- "Both formats side by side" shows the body the app really sends after a format switch.
- A conversation switches from the OpenAI to the Anthropic format mid-way and continues, with
  tool_result ids matching the tool_use ids.
- No element on any page ever contains the key.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.codegen import LABELS, LANGUAGES
from core.types import Exchange
from tests.support.anthropic_server import AnthropicWireServer
from tests.support.apptest import ask, messages, rendered_text, run
from tests.support.wire_server import (
    REFERENCE_RESPONSE,
    RecordedRequest,
    error_body,
    json_reply,
)

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
OPENAI_KEY = "sk-test-VIEWCODE-MARKER-123"
ANTHROPIC_KEY = "sk-ant-VIEWCODE-MARKER-456"
MARKER = "VIEWCODE-MARKER"
SEED = "What's the weather like in Boston today?"
REFERENCE_CALL_ID = "call_4yKljCtGceYj1heJY8G9h3te"
FIXTURE_TOOL_USE_ID = "toolu_01A09q90qw90lq917835lq9"
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"

MakeApp = Callable[[], AppTest]


@pytest.fixture
def server() -> Iterator[AnthropicWireServer]:
    """One local server for both formats: /v1/chat/completions and /v1/messages."""
    with AnthropicWireServer() as running:
        yield running


@pytest.fixture
def openai_app(make_app: MakeApp, clean_env: pytest.MonkeyPatch,
               server: AnthropicWireServer) -> MakeApp:
    clean_env.setenv("OPENAI_BASE_URL", server.base_url)
    clean_env.setenv("OPENAI_API_KEY", OPENAI_KEY)
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-2024-08-06")
    clean_env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    # Each key belongs to the server it is configured with (core.key_scope): this one too.
    clean_env.setenv("ANTHROPIC_BASE_URL", server.root_url)
    return make_app


@pytest.fixture
def anthropic_app(make_app: MakeApp, clean_env: pytest.MonkeyPatch,
                  server: AnthropicWireServer) -> MakeApp:
    clean_env.setenv("TOOLSMITH_PROVIDER", "anthropic")
    clean_env.setenv("ANTHROPIC_BASE_URL", server.root_url)
    clean_env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    clean_env.setenv("ANTHROPIC_MODEL", "claude-sonnet-4-5")
    return make_app


# --- helpers -----------------------------------------------------------------------------------

def exchanges(at: AppTest) -> list[Exchange]:
    return list(at.session_state["chat.state"].conversation.exchanges.values())


def answer_pending(at: AppTest, result: str) -> AppTest:
    [call] = messages(at)[-1].tool_calls
    at.text_area(key=f"chat.result.{call.id}").input(result)
    at.button(key="chat.send_results").click()
    return run(at)


def assert_no_key(at: AppTest) -> None:
    shown = rendered_text(at)
    assert shown  # something was rendered
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, MARKER):
        assert secret not in shown


def shown_code(at: AppTest, language: str, url: str) -> str:
    """The one code block of the given language that targets `url`."""
    blocks = [c.value for c in at.code
              if c.language == LANGUAGES[language] and url in c.value]
    assert len(blocks) == 1, [c.value[:80] for c in at.code]
    return blocks[0]


def run_shown(language: str, code: str, env: dict[str, str], tmp_path: Path) -> None:
    """Run code exactly as the page shows it; fail with its stderr if it fails."""
    if language == "curl":
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        command = ["bash", "-c", code]
    elif language.startswith("python"):
        command = [PYTHON, "-c", code]
    else:
        node = shutil.which("node")
        if node is None:
            pytest.skip("node is not installed")
        script = tmp_path / "request.mjs"
        script.write_text(code, encoding="utf-8")
        command = [node, str(script)]
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NO_PROXY": "*",
             "no_proxy": "*", **env}
    done = subprocess.run(command, env=clean, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, f"{language} failed:\n{code}\n--- {done.stderr[-2000:]}"


def requests_to(server: AnthropicWireServer, path: str) -> list[RecordedRequest]:
    return [r for r in server.requests if r.method == "POST" and r.path == path]


def has_anthropic_sdk() -> bool:
    done = subprocess.run([PYTHON, "-c", "import anthropic"], capture_output=True, check=False)
    return done.returncode == 0


def open_inspector(at: AppTest, exchange: Exchange) -> AppTest:
    """Open the exchange's inspector (the 🔍 button toggles, so only click when it is closed)."""
    state = at.session_state
    if "chat.inspected" not in state or state["chat.inspected"] != exchange.id:
        at.button(key=f"chat.inspect.{exchange.id}").click()
        run(at)
    assert at.session_state["chat.inspected"] == exchange.id
    return at


# --- the code the page shows runs, and sends what the app sent --------------------------------

def test_inspector_code_runs_as_shown_openai(openai_app: MakeApp, server: AnthropicWireServer,
                                             tmp_path: Path) -> None:
    at = ask(openai_app(), SEED)
    [exchange] = exchanges(at)
    [sent] = requests_to(server, CHAT)
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent.json == exchange.request_body
    open_inspector(at, exchange)
    assert f"Bearer ${'OPENAI_API_KEY'}" in rendered_text(at)

    for language in LABELS:
        at.segmented_control(key=f"inspect.{exchange.id}.lang").set_value(language)
        run(at)
        code = shown_code(at, language, server.base_url)
        assert_no_key(at)
        before = len(server.requests)
        run_shown(language, code, {"OPENAI_API_KEY": OPENAI_KEY}, tmp_path)
        [received] = [r for r in server.requests[before:] if r.path == CHAT]
        assert received.json == sent.json, language
        assert received.headers["authorization"] == f"Bearer {OPENAI_KEY}", language


def test_inspector_code_runs_as_shown_anthropic(anthropic_app: MakeApp,
                                                server: AnthropicWireServer,
                                                tmp_path: Path) -> None:
    at = ask(anthropic_app(), SEED)
    [exchange] = exchanges(at)
    assert exchange.wire == "anthropic"
    [sent] = requests_to(server, MESSAGES)
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    open_inspector(at, exchange)

    languages = ["curl", "python-httpx", "javascript"]
    if has_anthropic_sdk():
        languages.append("python-sdk")
    for language in languages:
        at.segmented_control(key=f"inspect.{exchange.id}.lang").set_value(language)
        run(at)
        url = server.root_url if language == "python-sdk" else f"{server.root_url}/v1/messages"
        code = shown_code(at, language, url)
        assert_no_key(at)
        before = len(server.requests)
        run_shown(language, code, {"ANTHROPIC_API_KEY": ANTHROPIC_KEY}, tmp_path)
        [received] = [r for r in server.requests[before:] if r.path == MESSAGES]
        assert received.json == sent.json, language
        headers = {k.lower(): v for k, v in received.headers.items()}  # SDKs capitalise
        if language == "python-sdk":
            # The SDK decides its own auth header and API version; the key must still arrive.
            assert ANTHROPIC_KEY in (headers.get("x-api-key"), headers.get("authorization", "")
                                     .removeprefix("Bearer ")), language
        else:
            assert headers["x-api-key"] == ANTHROPIC_KEY, language
            assert headers["anthropic-version"] == "2023-06-01", language


@pytest.mark.skipif(has_anthropic_sdk(), reason="covered by the inspector test when installed")
def test_anthropic_sdk_is_not_installed_so_its_code_is_not_run() -> None:
    """Recorded as a test so the run says why the Anthropic SDK code was not executed."""
    pytest.skip("the anthropic SDK is not installed in the venv; its generated code was not run")


def test_next_request_code_is_what_retry_sends(openai_app: MakeApp, server: AnthropicWireServer,
                                               tmp_path: Path) -> None:
    server.script(json_reply(error_body("messages: try again", "invalid_request_error"), 400))
    at = ask(openai_app(), SEED)
    assert any(e.value.startswith("The server answered 400") for e in at.error)
    at.toggle(key="chat.show_code").set_value(True)
    run(at)
    at.segmented_control(key="chat.next.lang").set_value("python-httpx")
    run(at)
    code = shown_code(at, "python-httpx", server.base_url)
    assert_no_key(at)

    before = len(server.requests)
    run_shown("python-httpx", code, {"OPENAI_API_KEY": OPENAI_KEY}, tmp_path)
    [from_code] = [r for r in server.requests[before:] if r.path == CHAT]

    at.button(key="chat.retry").click()
    run(at)
    assert not at.error, [e.value for e in at.error]
    from_app = requests_to(server, CHAT)[-1]
    assert from_code.json == from_app.json
    assert messages(at)[-1].tool_calls[0].id == REFERENCE_CALL_ID


def test_both_formats_side_by_side_show_what_each_format_sends(
    openai_app: MakeApp, server: AnthropicWireServer,
) -> None:
    server.script(json_reply(error_body("try again", "invalid_request_error"), 400))
    at = ask(openai_app(), SEED)
    at.toggle(key="chat.show_code").set_value(True)
    run(at)
    bodies = [json.loads(c.value) for c in at.code if c.language == "json"
              and c.value.startswith("{")]
    [openai_body] = [b for b in bodies if "messages" in b and "max_tokens" not in b]
    [anthropic_body] = [b for b in bodies if "max_tokens" in b]
    [responses_body] = [b for b in bodies if "input" in b]  # every registered format is shown
    assert responses_body["input"] == [{"role": "user", "content": SEED}]

    at.button(key="chat.retry").click()
    run(at)
    assert requests_to(server, CHAT)[-1].json == openai_body

    # Same conversation, other format: New turn in Anthropic's format after switching.
    at.button(key="chat.new").click()
    run(at)
    server.script_messages(json_reply({"type": "error", "error": {
        "type": "invalid_request_error", "message": "try again"}}, 400))
    at.selectbox(key="sidebar.wire").set_value("anthropic")
    run(at)
    ask(at, SEED)
    at.button(key="chat.retry").click()
    run(at)
    assert requests_to(server, MESSAGES)[-1].json == anthropic_body


def test_with_calls_pending_the_code_shows_what_send_tool_results_sends(
    openai_app: MakeApp, server: AnthropicWireServer,
) -> None:
    at = ask(openai_app(), SEED)
    [call] = messages(at)[-1].tool_calls
    at.toggle(key="chat.show_code").set_value(True)
    run(at)
    assert any("<result not typed yet>" in c.value for c in at.code if c.language == "json")
    at.text_area(key=f"chat.result.{call.id}").input('{"temperature": 22}')
    run(at)
    bodies = [json.loads(c.value) for c in at.code if c.language == "json"
              and c.value.startswith('{\n  "model"')]
    [shown] = [b for b in bodies if "messages" in b and "max_tokens" not in b]  # Chat's
    assert shown["messages"][-1] == {"role": "tool", "tool_call_id": call.id,
                                     "content": '{"temperature": 22}'}
    at.button(key="chat.send_results").click()
    run(at)
    assert requests_to(server, CHAT)[-1].json == shown


def test_each_answer_shows_its_usage_with_cache_figures_and_timings(
    anthropic_app: MakeApp, clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("ANTHROPIC_MODEL", "fixture-ping_events")
    at = ask(anthropic_app(), SEED)
    line = next(c.value for c in at.caption if c.value.startswith("prompt "))
    assert "prompt 3596 · cached 2048 · cache write 1536 · completion 11" in line, line
    assert re.search(r"latency \d+\.\d\d s · first token \d+ ms", line), line



def test_tools_the_server_ran_are_shown_and_never_wait_for_a_result(
    anthropic_app: MakeApp, clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("ANTHROPIC_MODEL", "fixture-server_tool_use")
    at = ask(anthropic_app(), SEED)
    [expander] = [e for e in at.expander if e.label.startswith("Tools the server ran itself")]
    shown = [c.value for c in expander.code]
    assert shown[0] == 'server ran web_search: {"query": "Boston weather today"}'
    assert shown[1].startswith("web_search_tool_result: ")
    assert any(m.value == "Boston is sunny today, around 22 °C." for m in at.markdown)
    assert not at.chat_input(key="chat.input").disabled  # nothing pending
    assert messages(at)[-1].tool_calls == []


def test_reasoning_is_shown_apart_from_the_answer(
    openai_app: MakeApp, clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("OPENAI_MODEL", "fixture-reasoning_content")
    at = ask(openai_app(), SEED)
    [message] = [m for m in messages(at) if m.reasoning]
    [expander] = [e for e in at.expander if e.label.startswith("Reasoning")]
    assert message.reasoning[:40] in "".join(m.value for m in expander.markdown)
    assert message.reasoning[:40] not in message.content


def test_the_inspector_shows_status_request_id_rate_limits_timings_and_attempts(
    openai_app: MakeApp, server: AnthropicWireServer,
) -> None:
    server.script(
        json_reply(error_body("Rate limit reached", "requests"), 429,
                   {"Retry-After": "0", "x-request-id": "req_first"}),
        json_reply(REFERENCE_RESPONSE, 200, {"x-request-id": "req_abc123",
                                             "x-ratelimit-remaining-requests": "4999"}))
    at = ask(openai_app(), SEED)
    [exchange] = exchanges(at)
    open_inspector(at, exchange)
    head = next(m.value for m in at.markdown if m.value.startswith("**Exchange**"))
    assert "status **200**" in head and "req_abc123" in head, head
    assert any('"x-ratelimit-remaining-requests": "4999"' in c.value for c in at.code)
    timing, attempts = (t.value for t in at.table[-2:])
    assert list(timing["event"]) == ["start", "first byte", "first token", "end"]
    assert all(at_ != "—" for at_ in timing["at"]), timing
    assert list(attempts["status"]) == [429, 200]


def test_a_key_typed_for_one_wire_format_is_never_sent_in_the_other(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, server: AnthropicWireServer,
) -> None:
    clean_env.setenv("TOOLSMITH_PROVIDER", "anthropic")
    clean_env.setenv("ANTHROPIC_BASE_URL", server.root_url)
    clean_env.setenv("ANTHROPIC_MODEL", "claude-sonnet-4-5")
    clean_env.setenv("OPENAI_BASE_URL", server.base_url)
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-2024-08-06")
    typed = "sk-ant-typed-for-anthropic-ONLY-1234"
    at = make_app()
    at.text_input(key="sidebar.api_key").input(typed)
    run(at)
    at.selectbox(key="sidebar.wire").set_value("openai")
    run(at)
    at.text_input(key="sidebar.base_url").input(server.base_url)
    run(at)
    assert not any("API key set" in c.value for c in at.sidebar.caption)
    server.script(json_reply(error_body("Missing bearer authentication", "invalid_request_error"),
                             401))
    ask(at, SEED)
    sent = requests_to(server, CHAT)[-1].headers
    assert typed not in json.dumps(sent)
    # A 401 to a request that carried no key says so, not "the key was rejected".
    assert any("no API key was sent" in e.value for e in at.error), [e.value for e in at.error]

    at.selectbox(key="sidebar.wire").set_value("anthropic")
    run(at)
    assert any("API key set (typed" in c.value for c in at.sidebar.caption)


# --- switching format mid-conversation -------------------------------------------------------

def test_switching_format_mid_conversation_and_no_key_anywhere(
    openai_app: MakeApp, server: AnthropicWireServer,
) -> None:
    at = openai_app()
    assert_no_key(at)

    # 1. OpenAI format: a tool call, answered.
    ask(at, SEED)
    [call] = messages(at)[-1].tool_calls
    assert call.id == REFERENCE_CALL_ID
    first = exchanges(at)[0]
    open_inspector(at, first)
    assert_no_key(at)
    answer_pending(at, '{"temperature": 22}')
    assert messages(at)[-1].content.startswith("Tool results:")
    at.toggle(key="chat.show_code").set_value(True)
    run(at)
    for language in LABELS:
        at.segmented_control(key="chat.next.lang").set_value(language)
        at.segmented_control(key=f"inspect.{first.id}.lang").set_value(language)
        run(at)
        assert_no_key(at)
    assert [r.path for r in server.requests] == [CHAT, CHAT]

    # 2. Switch the sidebar to the Anthropic format and carry on.
    at.selectbox(key="sidebar.wire").set_value("anthropic")
    run(at)
    assert_no_key(at)
    ask(at, "And what should I wear?")
    assert not at.error, [e.value for e in at.error]
    switched = requests_to(server, MESSAGES)[0]
    assert switched.headers["x-api-key"] == ANTHROPIC_KEY
    history = switched.json["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant", "user"]
    [tool_use] = [b for b in history[1]["content"] if b["type"] == "tool_use"]
    [tool_result] = [b for b in history[2]["content"] if b["type"] == "tool_result"]
    assert tool_use["id"] == tool_result["tool_use_id"] == REFERENCE_CALL_ID
    assert tool_use["input"] == {"location": "Boston, MA", "unit": "celsius"}
    assert tool_result["content"] == '{"temperature": 22}'
    [call] = messages(at)[-1].tool_calls
    assert call.id == FIXTURE_TOOL_USE_ID
    assert exchanges(at)[-1].wire == "anthropic"
    # The card checks the call against the input_schema of the Anthropic request.
    fits = [c.value for c in at.caption
            if c.value == ":material/check_circle: Arguments fit the schema that was sent."]
    assert len(fits) == 2  # the OpenAI-format call and the Anthropic-format one
    assert_no_key(at)

    # 3. Answer the Anthropic call: the follow-up carries a tool_result for that tool_use.
    answer_pending(at, "rainy, 9 C")
    follow_up = requests_to(server, MESSAGES)[-1].json
    last = follow_up["messages"][-1]
    assert last["role"] == "user"
    assert last["content"][0] == {"type": "tool_result", "tool_use_id": FIXTURE_TOOL_USE_ID,
                                  "content": "rainy, 9 C"}
    previous = follow_up["messages"][-2]
    assert any(b.get("type") == "tool_use" and b["id"] == FIXTURE_TOOL_USE_ID
               for b in previous["content"])
    assert messages(at)[-1].content == f"Tool results: {FIXTURE_TOOL_USE_ID} said rainy, 9 C"

    # 4. Every exchange's inspector, in every language, and every page: no key.
    for exchange in exchanges(at):
        open_inspector(at, exchange)
        for language in LABELS:
            at.segmented_control(key=f"inspect.{exchange.id}.lang").set_value(language)
            run(at)
            assert_no_key(at)
        [headers] = [json.loads(c.value) for c in at.code
                     if c.language == "json" and '"Content-Type"' in c.value]
        assert headers == exchange.request_headers
        if exchange.wire == "anthropic":
            assert headers["x-api-key"] == "$ANTHROPIC_API_KEY"
            assert headers["anthropic-version"] == "2023-06-01"
        else:
            assert headers["Authorization"] == "Bearer $OPENAI_API_KEY"
    for page in ("tools", "history", "usage", "chat"):
        at.switch_page(f"app_pages/{page}.py")
        run(at)
        assert_no_key(at)

    # The keys did go out, each in its own format's header.
    assert {r.headers.get("authorization") for r in requests_to(server, CHAT)} == {
        f"Bearer {OPENAI_KEY}"}
    assert {r.headers.get("x-api-key") for r in requests_to(server, MESSAGES)} == {
        ANTHROPIC_KEY}
    assert all(MARKER not in r.body.decode() for r in server.requests)


def test_switching_back_to_openai_keeps_the_ids(openai_app: MakeApp,
                                                server: AnthropicWireServer) -> None:
    at = openai_app()
    at.selectbox(key="sidebar.wire").set_value("anthropic")
    run(at)
    ask(at, SEED)
    [call] = messages(at)[-1].tool_calls
    assert call.id == FIXTURE_TOOL_USE_ID
    at.selectbox(key="sidebar.wire").set_value("openai")
    run(at)
    answer_pending(at, "22 C")
    body: dict[str, Any] = requests_to(server, CHAT)[-1].json
    assert body["messages"][-2]["tool_calls"][0]["id"] == FIXTURE_TOOL_USE_ID
    assert body["messages"][-1] == {"role": "tool", "tool_call_id": FIXTURE_TOOL_USE_ID,
                                    "content": "22 C"}
    assert messages(at)[-1].content == f"Tool results: {FIXTURE_TOOL_USE_ID} said 22 C"
    assert_no_key(at)


@pytest.mark.parametrize("status", [401, 500])
def test_a_key_echoed_by_the_server_is_not_shown_in_the_inspector(
    openai_app: MakeApp, server: AnthropicWireServer, status: int,
) -> None:
    echo = json_reply(error_body(f"Invalid token: {OPENAI_KEY}", "invalid_request_error",
                                 "invalid_api_key"), status)
    server.script(echo, echo, echo)  # a 500 is retried twice
    at = ask(openai_app(), SEED)
    [exchange] = exchanges(at)
    assert any(e.value.startswith(f"The server answered {status}") for e in at.error)
    open_inspector(at, exchange)
    at.toggle(key="chat.show_code").set_value(True)
    run(at)
    assert_no_key(at)
    assert exchange.attempts
