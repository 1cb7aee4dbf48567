"""A key from the environment or secrets belongs to the base URL it was configured with.

Two local servers (two origins). OPENAI_BASE_URL points at the first; typing the second in the
sidebar must not send OPENAI_API_KEY there — not with Load model list, not with a chat turn —
until the user types a key for it or explicitly chooses to reuse the configured one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import ask, rendered_text, run
from tests.support.wire_server import RecordedRequest, WireServer, text_completion

MakeApp = Callable[[], AppTest]
KEY = "sk-test-SCOPE-00aa11bb22cc33dd44"
TYPED = "sk-test-TYPED-99ee88ff77aa66bb55"


@pytest.fixture
def other_server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


def sent_key(request: RecordedRequest) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def configured(clean_env: pytest.MonkeyPatch, server: WireServer | None) -> None:
    if server is not None:
        clean_env.setenv("OPENAI_BASE_URL", server.base_url)
    clean_env.setenv("OPENAI_API_KEY", KEY)
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-mini")
    clean_env.setenv("TOOLSMITH_WIRE_FORMAT", "openai")


def point_at(at: AppTest, base_url: str) -> AppTest:
    at.text_input(key="sidebar.base_url").input(base_url)
    return run(at)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.sidebar.warning]


def test_the_configured_key_goes_to_its_own_server(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer) -> None:
    configured(clean_env, wire_server)
    at = ask(make_app(), "Hello")
    assert [sent_key(r) for r in wire_server.chat_requests] == [KEY]
    assert not warnings(at)


def test_another_base_url_does_not_get_the_configured_key(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
        other_server: WireServer) -> None:
    configured(clean_env, wire_server)
    at = point_at(make_app(), other_server.base_url)
    [warning] = warnings(at)
    assert "OPENAI_API_KEY" in warning and wire_server.base_url.rsplit("/v1", 1)[0] in warning
    at.button(key="sidebar.load_models").click()
    run(at)
    other_server.script(text_completion("Hi.", stream=True, model="gpt-4o-mini"))
    ask(at, "Hello")
    assert other_server.requests, "nothing reached the other server"
    assert all(sent_key(r) == "" for r in other_server.requests)
    assert KEY not in rendered_text(at)

    # The user decides: reuse the configured key for this server too.
    at.button(key="sidebar.reuse_key").click()
    run(at)
    assert not warnings(at)
    ask(at, "Hello again")
    assert sent_key(other_server.chat_requests[-1]) == KEY


def test_a_typed_key_goes_to_the_server_it_was_typed_for(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
        other_server: WireServer) -> None:
    configured(clean_env, wire_server)
    at = point_at(make_app(), other_server.base_url)
    at.text_input(key="sidebar.api_key").input(TYPED)
    run(at)
    assert not warnings(at)
    ask(at, "Hello")
    assert sent_key(other_server.chat_requests[-1]) == TYPED


def test_a_key_without_a_base_url_belongs_to_the_official_api(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, other_server: WireServer) -> None:
    """OPENAI_API_KEY alone is an api.openai.com key, as in the SDK: a local address typed
    into the sidebar does not get it."""
    configured(clean_env, None)
    at = point_at(make_app(), other_server.base_url)
    assert any("api.openai.com" in w for w in warnings(at))
    ask(at, "Hello")
    assert all(sent_key(r) == "" for r in other_server.requests)
