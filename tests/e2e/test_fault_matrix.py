"""The fault matrix, in a real browser: every way a model server fails, one test each.

Each failure must leave the page with a clear message (what happened and what to do), no
Streamlit exception, the user's message and any typed tool results still there, and a Retry
that works once the server is well again. Faults on the follow-up request (after a tool call
was answered) check that the typed result survives and is sent again on Retry.

One Streamlit server and one local fault server (tests/support/wire_server.py) serve the whole
module; each test is a fresh browser tab (a fresh Streamlit session) that picks its fault by
typing the fault's model name into the sidebar. Faults are chosen by model, so they never leak
between tests.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import UI_TIMEOUT_MS, StreamlitServer, launch, stop
from tests.e2e.ui import (
    SEED,
    answer_call,
    ask,
    bubbles,
    error_box,
    main,
    model_caption,
    no_exception,
    open_chat,
    result_box,
    seen_alerts,
    set_base_url,
    set_idle_timeout,
    set_model,
    tool_result_bubble,
    user_bubble,
    watch_alerts,
)
from tests.support.wire_server import (
    SCHEMA_BREAKING_ARGUMENTS,
    WireServer,
    fixture_reply,
    text_completion,
)

pytestmark = pytest.mark.e2e

KEY = "sk-test-FAULTS-5d2e8b1a"
GOOD_MODEL = "gpt-4o-2024-08-06"  # the fault server's well-behaved weather model
GOOD_CALL = "call_4yKljCtGceYj1heJY8G9h3te"  # its tool call (the standard_tool_call fixture)
BAD_ARGS_CALL = "call_Ba0Dd1Ar2Gs3Xx4Yy5Zz6Ww7"
SCHEMA_CALL = "call_Sc0Hm1Ea2Br3Ea4Ks5Ar6Gs"
KEPT = "Your message, the conversation and any typed results are kept."
RECOVERED = "Sunny spells in Boston now, 17 degrees."


@pytest.fixture(scope="module")
def fault_server() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory,
        fault_server: WireServer) -> Iterator[StreamlitServer]:
    server = launch(tmp_path_factory.mktemp("fault-matrix"), {
        "OPENAI_BASE_URL": fault_server.base_url,
        "OPENAI_API_KEY": KEY,
        "OPENAI_MODEL": GOOD_MODEL,
    })
    yield server
    stop(server.process)


@pytest.fixture(scope="module")
def shared_context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser context for the module: its pages share the HTTP cache (Streamlit's
    scripts load once), while each page is still its own Streamlit session."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(shared_context: BrowserContext) -> Iterator[Page]:
    """A fresh tab, hence a fresh Streamlit session, per test."""
    tab = shared_context.new_page()
    yield tab
    tab.close()


@pytest.fixture(autouse=True)
def no_leftover_script(fault_server: WireServer) -> Iterator[None]:
    """A test that failed half-way must not leave scripted answers for the next one."""
    fault_server.clear_script()
    yield
    fault_server.clear_script()


def typed_result(case: str) -> str:
    return json.dumps({"temperature": 17, "unit": "celsius", "sky": "drizzle", "case": case})


def last_tool_message(server: WireServer) -> dict:
    body = server.chat_requests[-1].json
    assert isinstance(body, dict)
    return body["messages"][-1]


def assert_result_sent(server: WireServer, call_id: str, result: str) -> None:
    assert last_tool_message(server) == {"role": "tool", "tool_call_id": call_id,
                                         "content": result}


def expect_answer(page: Page, text: str) -> None:
    answer = bubbles(page).filter(has_text=text)
    expect(answer).to_have_count(1)
    expect(answer).not_to_contain_text("▌")  # the streaming cursor is gone: the turn is over


def expect_recovered(page: Page) -> None:
    expect(error_box(page)).to_have_count(0)
    expect(main(page).get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    expect(user_bubble(page, SEED)).to_have_count(1)
    no_exception(page)


@dataclass(frozen=True)
class Fault:
    model: str
    message: str  # regex over the error alert: what happened and what to do
    detail: str = ""  # regex over the caption under it (the server's own words)
    follow_up: bool = False  # fail the request after a tool call was answered, not the first
    attempts: int = 1  # requests the failed turn makes (retried statuses make three)
    idle_s: int | None = None  # the sidebar's idle timeout, for stalls


FAULTS = [
    Fault("fault-400", r"The server answered 400: the request was rejected as invalid\. Check "
          r"the model name, the tool schemas and the message history",
          r"It said: Invalid schema for function 'get_current_weather'"),
    Fault("fault-401", r"The server answered 401: the API key was rejected\. Check "
          r"OPENAI_API_KEY or the key in the sidebar\.", r"It said: Incorrect API key provided"),
    Fault("fault-404", r"The server answered 404: the address or model was not found\. Check "
          r"the base URL .* and the model name\.",
          r"It said: The model .?fault-404.? does not exist"),
    Fault("fault-500", r"The server answered 500 \(after 3 attempts\): the server failed\. "
          r"Retry; if it keeps failing, the provider may be down\.",
          r"It said: The server had an error while processing your request", follow_up=True,
          attempts=3),
    Fault("fault-502-html", r"The server answered 502 \(after 3 attempts\): the server failed\. "
          r"Retry", r"It said: an HTML page titled .502 Bad Gateway. \(usually a proxy or "
          r"gateway, not the model server\)", follow_up=True, attempts=3),
    Fault("fault-529", r"The server answered 529 \(after 3 attempts\): the server is "
          r"overloaded\. Wait a moment and Retry\.", r"It said: Overloaded", attempts=3),
    # No response headers within the idle timeout: core maps httpx's ReadTimeout while
    # waiting for the answer to TimeoutError_, and does not retry it.
    Fault("fault-no-answer", r"The server at 127\.0\.0\.1:\d+ did not answer in time\. Retry, "
          r"or raise the timeout in the sidebar\.", r"timed out", follow_up=True, idle_s=1),
    Fault("fault-cut-args", r"The connection closed in the middle of the answer \(inside "
          r"tool-call arguments\)\. The partial answer was discarded; Retry\.",
          r"incomplete chunked read", follow_up=True, attempts=3),  # a broken stream is retried
    Fault("fault-stall", r"The stream stopped sending for 1 s before it was complete\. The "
          r"partial answer was discarded; Retry\.", follow_up=True, idle_s=1),
    Fault("fault-stream-error", r"The server reported an error in the middle of its answer\. "
          r"Retry; if it repeats, check the model and request\.",
          r"It said: The server had an error while processing your request", follow_up=True),
    Fault("fault-not-json", r"The stream carried a chunk that is not JSON, so the answer cannot "
          r"be read\. Retry; if it repeats, the server or a proxy in between is mangling",
          r"The chunk began: 'upstream connect error", follow_up=True, attempts=3),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.model)
def test_fault_shows_a_clear_message_keeps_the_work_and_retries(
    app: StreamlitServer, fault_server: WireServer, page: Page, fault: Fault,
) -> None:
    open_chat(page, app.url)
    if fault.idle_s is not None:
        set_idle_timeout(page, fault.idle_s)
    set_model(page, fault.model)
    result = typed_result(fault.model)
    sent_before = len(fault_server.chat_requests)

    if fault.follow_up:
        fault_server.script(fixture_reply("standard_tool_call"))  # a good first answer
        ask(page, SEED)
        answer_call(page, result)
    else:
        ask(page, SEED)

    error = error_box(page)
    expect(error).to_have_count(1)
    expect(error.get_by_test_id("stAlert")).to_contain_text(re.compile(fault.message))
    if fault.detail:
        expect(error).to_contain_text(re.compile(fault.detail))
    expect(error).to_contain_text(KEPT)
    no_exception(page)
    expect(user_bubble(page, SEED)).to_have_count(1)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    assert len(fault_server.chat_requests) - sent_before == fault.attempts + fault.follow_up
    if fault.follow_up:
        expect(tool_result_bubble(page)).to_have_count(1)
        expect(tool_result_bubble(page)).to_contain_text(result)
        assert_result_sent(fault_server, GOOD_CALL, result)
    else:
        expect(tool_result_bubble(page)).to_have_count(0)

    # The server is well again: Retry sends the same conversation and gets the answer.
    if fault.follow_up:
        fault_server.script(text_completion(RECOVERED, stream=True, model=fault.model))
    else:
        fault_server.script(fixture_reply("standard_tool_call"))
    error.get_by_role("button", name="Retry", exact=True).click()
    if fault.follow_up:
        expect_answer(page, RECOVERED)
        assert_result_sent(fault_server, GOOD_CALL, result)
        expect(tool_result_bubble(page)).to_contain_text(result)
    else:
        expect(page.get_by_label(f"Result of get_current_weather ({GOOD_CALL})", exact=True)) \
            .to_be_visible()
    expect_recovered(page)


def test_429_with_retry_after_says_it_is_retrying_then_answers(
    app: StreamlitServer, fault_server: WireServer, page: Page,
) -> None:
    """A 429 with Retry-After: 1 on the follow-up request: the page says it is waiting to
    retry, then the second attempt answers; no error, no Retry needed."""
    open_chat(page, app.url)
    set_model(page, "fault-429-1s-then-ok")
    result = typed_result("429")
    fault_server.script(fixture_reply("standard_tool_call"))
    ask(page, SEED)
    expect(result_box(page)).to_be_visible()
    watch_alerts(page)
    sent_before = len(fault_server.chat_requests)
    answer_call(page, result)

    # The fault server's weather model quotes the tool results it was sent.
    expect_answer(page, f"Tool results: {GOOD_CALL} said {result}")
    answer = bubbles(page).filter(has_text="Tool results:")
    expect(answer).to_contain_text("succeeded on attempt 2")
    notices = [a for a in seen_alerts(page) if "Retrying" in a]
    assert notices, seen_alerts(page)
    assert re.search(r"The server answered 429: rate limited or out of quota\. Wait a moment "
                     r"and Retry.*Retrying in 1\.0 s \(retry 1 of 2\)", notices[0], re.S), notices
    expect(page.get_by_text(re.compile(r"Retrying in"))).to_have_count(0)  # gone once answered
    assert len(fault_server.chat_requests) - sent_before == 2
    assert_result_sent(fault_server, GOOD_CALL, result)
    expect(tool_result_bubble(page)).to_contain_text(result)
    expect_recovered(page)


def test_connection_refused_then_the_server_comes_back(
    app: StreamlitServer, page: Page,
) -> None:
    """The follow-up request goes to a port with nothing listening; once a server listens
    there, Retry gets the answer."""
    # Held (bound, not listening) so no other process takes the port meanwhile: the kernel
    # refuses connections to it all the same. Without SO_REUSEADDR: with it, the hold holds
    # nothing, since any server binding that port with SO_REUSEADDR (Streamlit's tornado and
    # the test wire servers do) may bind and listen there too, and the request meant to be
    # refused reaches that server instead (seen when other e2e tests ran at the same time).
    # Closing a socket that never connected leaves no TIME_WAIT, so the revived server can
    # bind the port afterwards.
    reserved = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reserved.bind(("127.0.0.1", 0))
    port = reserved.getsockname()[1]
    try:
        open_chat(page, app.url)
        result = typed_result("refused")
        ask(page, SEED)  # the fault server's weather model calls get_current_weather
        expect(result_box(page)).to_be_visible()
        set_base_url(page, f"http://127.0.0.1:{port}/v1")
        answer_call(page, result)

        error = error_box(page)
        expect(error).to_have_count(1)
        expect(error.get_by_test_id("stAlert")).to_contain_text(re.compile(
            rf"Could not connect to http://127\.0\.0\.1:{port}: nothing answered there\. Check "
            r"the base URL and that the server is running\."))
        expect(error).to_contain_text(re.compile(r"[Cc]onnection refused"))
        expect(error).to_contain_text(KEPT)
        no_exception(page)
        expect(user_bubble(page, SEED)).to_have_count(1)
        expect(tool_result_bubble(page)).to_contain_text(result)
    finally:
        reserved.close()

    with WireServer(port=port) as revived:
        error.get_by_role("button", name="Retry", exact=True).click()
        expect_answer(page, f"Tool results: {GOOD_CALL} said {result}")
        assert len(revived.chat_requests) == 1
        assert_result_sent(revived, GOOD_CALL, result)
    expect_recovered(page)


def test_arguments_that_are_not_json_are_shown_raw_and_can_be_answered(
    app: StreamlitServer, fault_server: WireServer, page: Page,
) -> None:
    open_chat(page, app.url)
    set_model(page, "fault-bad-args-then-ok")
    ask(page, SEED)

    card = bubbles(page).filter(has_text=f"call id {BAD_ARGS_CALL}")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("stAlert")).to_contain_text(re.compile(
        r"The arguments are not valid JSON: .*line 1, column 36\. They are shown raw below; "
        r"you can still answer the call"))
    expect(card.get_by_test_id("stCode")).to_contain_text(
        '{"location": "Boston, MA", "unit": celsius}')
    no_exception(page)

    result = typed_result("bad-args")
    answer_call(page, result)
    expect_answer(page, f"Tool results: {BAD_ARGS_CALL} said {result}")
    assert_result_sent(fault_server, BAD_ARGS_CALL, result)
    expect(card).to_have_count(1)  # the raw arguments and the warning stay in the history
    expect(card.get_by_test_id("stAlert")).to_contain_text("not valid JSON")
    expect_recovered(page)


def test_arguments_that_break_the_schema_are_flagged_and_can_be_answered(
    app: StreamlitServer, fault_server: WireServer, page: Page,
) -> None:
    open_chat(page, app.url)
    set_model(page, "fault-schema-args-then-ok")
    ask(page, SEED)

    card = bubbles(page).filter(has_text=f"call id {SCHEMA_CALL}")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("stAlert")).to_contain_text(
        re.compile(r"Arguments break the schema that was sent \(2 violations\)"))
    listed = card.get_by_role("listitem")  # as text: selectable, searchable, read aloud
    expect(listed).to_have_count(2)
    expect(listed.first).to_contain_text("/location")
    expect(listed.last).to_contain_text("/unit")
    expect(listed.last).to_contain_text("kelvin")
    expect(card).not_to_contain_text("Arguments fit the schema")
    expect(card.get_by_test_id("stCode").first).to_contain_text('"unit": "kelvin"')
    no_exception(page)
    assert json.loads(SCHEMA_BREAKING_ARGUMENTS) == {"location": 42, "unit": "kelvin"}

    result = typed_result("schema")
    answer_call(page, result)
    expect_answer(page, f"Tool results: {SCHEMA_CALL} said {result}")
    assert_result_sent(fault_server, SCHEMA_CALL, result)
    expect(card.get_by_test_id("stAlert")).to_contain_text("break the schema")
    expect_recovered(page)


@pytest.mark.parametrize(("model", "broken_call"), [("fault-bad-args", BAD_ARGS_CALL),
                                                   ("fault-schema-args", SCHEMA_CALL)])
def test_a_call_with_unusable_arguments_can_be_retried(
    app: StreamlitServer, fault_server: WireServer, page: Page, model: str, broken_call: str,
) -> None:
    """"Retry this turn" drops the broken call and asks again; the question stays."""
    open_chat(page, app.url)
    set_model(page, model)
    ask(page, SEED)
    broken = page.get_by_label(f"Result of get_current_weather ({broken_call})", exact=True)
    expect(broken).to_be_visible()
    card = bubbles(page).filter(has_text=f"call id {broken_call}")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(re.compile(r"Retry this turn|break the schema"))
    no_exception(page)
    sent_before = len(fault_server.chat_requests)

    fault_server.script(fixture_reply("standard_tool_call"))  # the fresh attempt is good
    main(page).get_by_role("button", name="Retry this turn", exact=True).click()
    expect(page.get_by_label(f"Result of get_current_weather ({GOOD_CALL})", exact=True)) \
        .to_be_visible()
    expect(broken).to_have_count(0)
    expect(card).to_have_count(0)
    expect(user_bubble(page, SEED)).to_have_count(1)
    expect(model_caption(page, model)).to_be_visible()
    assert len(fault_server.chat_requests) - sent_before == 1
    # The fresh attempt asked the same question, without the discarded call.
    body = fault_server.chat_requests[-1].json
    assert isinstance(body, dict)
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"] == SEED
    no_exception(page)
