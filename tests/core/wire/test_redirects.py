"""A key never follows a redirect to another origin, in either wire format.

Two real servers on 127.0.0.1 (two ports: two origins, as far as browsers and RFC 6454 are
concerned). The first answers 307/308 towards the second; what the second receives is checked
header by header. httpx drops only `Authorization` across origins, so Anthropic's `x-api-key`
would go along unless Toolsmith follows redirects itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.config import Endpoint
from core.models import fetch_models
from core.turn import TurnResult, client_for, run_turn
from core.types import ChatSettings, Message
from core.wire import errors
from core.wire.http import RetryPolicy, Timeouts
from tests.support.anthropic_server import AnthropicWireServer
from tests.support.wire_server import RecordedRequest, Reply

KEY = "sk-test-REDIRECT-5a4b3c2d1e0f99887766"


@pytest.fixture
def servers() -> Iterator[tuple[AnthropicWireServer, AnthropicWireServer]]:
    with AnthropicWireServer() as first, AnthropicWireServer() as second:
        yield first, second


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with client_for(Timeouts(connect=5.0, idle=10.0), demo=False) as made:
        yield made


def endpoint(base_url: str, wire: str, *, bearer: bool = False) -> Endpoint:
    key_env = "ANTHROPIC_API_KEY" if wire == "anthropic" else "OPENAI_API_KEY"
    return Endpoint(preset="custom", base_url=base_url, model="wire-echo", api_key=KEY,
                    key_env=key_env, wire=wire, bearer_auth=bearer,  # type: ignore[arg-type]
                    timeouts=Timeouts(connect=5.0, idle=10.0), retry=RetryPolicy(max_retries=0))


def redirect(status: int, location: str) -> Reply:
    return Reply(status=status, body=b"", headers={"Location": location})


def carries_key(request: RecordedRequest) -> bool:
    return any(KEY in value for value in request.headers.values())


def ask(point: Endpoint, client: httpx.Client, stream: bool = True) -> TurnResult:
    return run_turn(point, [Message(role="user", content="Weather in Boston?")], [],
                    ChatSettings(model="wire-echo", stream=stream), client=client,
                    sleep=lambda _s: None)


CASES = [  # wire, bearer, path the first server redirects
    pytest.param("openai", False, "/v1/chat/completions", id="openai-bearer"),
    pytest.param("anthropic", False, "/v1/messages", id="anthropic-x-api-key"),
    pytest.param("anthropic", True, "/v1/messages", id="anthropic-bearer"),
]


def script(server: AnthropicWireServer, wire: str, reply: Reply) -> None:
    (server.script_messages if wire == "anthropic" else server.script)(reply)


def base_of(server: AnthropicWireServer, wire: str) -> str:
    return server.root_url if wire == "anthropic" else server.base_url


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize(("wire", "bearer", "path"), CASES)
def test_a_cross_origin_redirect_never_carries_the_key(
        servers: tuple[AnthropicWireServer, AnthropicWireServer], client: httpx.Client,
        wire: str, bearer: bool, path: str, status: int) -> None:
    first, second = servers
    script(first, wire, redirect(status, f"{second.root_url}{path}"))
    result = ask(endpoint(base_of(first, wire), wire, bearer=bearer), client)
    [sent] = first.requests
    assert carries_key(sent)
    [followed] = second.requests
    assert followed.method == "POST" and followed.body == sent.body  # 307/308 keep the body
    assert not carries_key(followed), followed.headers
    assert "x-api-key" not in followed.headers and "authorization" not in followed.headers
    # The other origin wants a key (or answers without one): either way the page says why.
    if result.error is not None:
        assert isinstance(result.error, errors.APIStatusError)
        assert "another address" in str(result.error)
        assert KEY not in str(result.error)


@pytest.mark.parametrize(("wire", "bearer", "path"), CASES)
def test_a_same_origin_redirect_keeps_the_key(
        servers: tuple[AnthropicWireServer, AnthropicWireServer], client: httpx.Client,
        wire: str, bearer: bool, path: str) -> None:
    first, _ = servers
    script(first, wire, redirect(307, f"{first.root_url}{path}?moved=1"))
    result = ask(endpoint(base_of(first, wire), wire, bearer=bearer), client)
    assert result.error is None, result.error
    assert len(first.requests) == 2 and all(carries_key(r) for r in first.requests)
    assert first.requests[1].path.endswith("?moved=1")


def test_a_redirect_to_another_scheme_or_port_is_another_origin(
        servers: tuple[AnthropicWireServer, AnthropicWireServer], client: httpx.Client) -> None:
    first, _ = servers
    # Same host, the port of nothing listening: only the origin differs (and nothing answers).
    script(first, "anthropic", redirect(307, "http://localhost:9/v1/messages"))
    result = ask(endpoint(first.root_url, "anthropic"), client)
    assert result.error is not None
    assert len(first.requests) == 1 and carries_key(first.requests[0])


def test_redirects_are_followed_a_few_times_only(
        servers: tuple[AnthropicWireServer, AnthropicWireServer], client: httpx.Client) -> None:
    first, _ = servers
    for _ in range(12):
        first.script(redirect(307, f"{first.base_url}/chat/completions"))
    result = ask(endpoint(first.base_url, "openai"), client, stream=False)
    assert result.error is not None and "redirect" in str(result.error).lower()
    assert len(first.requests) <= 6


def test_the_model_list_never_carries_the_key_across_origins(
        servers: tuple[AnthropicWireServer, AnthropicWireServer], client: httpx.Client) -> None:
    first, second = servers
    original = first.reply_for

    def reply_for(request: RecordedRequest) -> Reply:
        if request.method == "GET":
            return redirect(301, f"{second.root_url}/v1/models")
        return original(request)

    first.reply_for = reply_for  # type: ignore[method-assign]
    assert fetch_models(endpoint(first.root_url, "anthropic"), client) == [
        "gpt-4o-2024-08-06", "gpt-4o-mini", "wire-echo"]
    [followed] = second.requests
    assert not carries_key(followed)
    assert carries_key(first.requests[0])
