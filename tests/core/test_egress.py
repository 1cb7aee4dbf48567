"""The team server's egress policy: where requests may go, checked after DNS resolution.

Real wire servers on 127.0.0.1 stand in for internal services: a refused request must never
reach them, an allowed one must work as before. Names other than `localhost` resolve through
the policy's resolver hook (the edge), never through the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from core.config import Endpoint
from core.egress import (
    Allowed,
    EgressPolicy,
    EgressRefused,
    address_kind,
    async_guarded_transport,
    policy_of,
)
from core.models import fetch_models
from core.turn import TurnResult, run_turn
from core.types import ChatSettings, Message
from core.wire.http import RetryPolicy, Timeouts, make_client
from tests.support.wire_server import Reply, WireServer

KEY = "sk-test-EGRESS-0a1b2c3d4e5f60718293"
NAMES = {"internal.example": ["127.0.0.1"], "mixed.example": ["93.184.215.14", "10.0.0.7"],
         "llm.test": ["127.0.0.1"]}


def resolve(host: str, port: int) -> list[str]:
    del port
    if host == "localhost":  # the system's own resolver (allowed by tests/core's guard)
        import socket
        return sorted({str(i[4][0]) for i in socket.getaddrinfo(host, None)})
    return NAMES[host]


def team(*listed: str, only_listed: bool | None = None) -> EgressPolicy:
    return EgressPolicy.team(listed, only_listed=only_listed, resolve=resolve)


@pytest.fixture
def other_server() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server


def endpoint(base_url: str) -> Endpoint:
    return Endpoint(preset="custom", base_url=base_url, model="gpt-4o", api_key=KEY,
                    key_env="OPENAI_API_KEY", timeouts=Timeouts(connect=5.0, idle=10.0),
                    retry=RetryPolicy(max_retries=0))


def ask(base_url: str, policy: EgressPolicy) -> TurnResult:
    with make_client(Timeouts(connect=5.0, idle=10.0), policy=policy) as client:
        return run_turn(endpoint(base_url), [Message(role="user", content="Weather?")], [],
                        ChatSettings(model="gpt-4o", stream=True), client=client,
                        sleep=lambda _s: None)


def refused(result: TurnResult) -> str:
    assert isinstance(result.error, EgressRefused), result.error
    assert result.message is None
    assert result.exchange.attempts and \
        result.exchange.attempts[-1].error == "refused by the egress policy"
    assert KEY not in result.error.message
    return result.error.message


def test_local_mode_restricts_nothing(wire_server: WireServer) -> None:
    result = ask(wire_server.base_url, EgressPolicy())
    assert result.error is None and result.message is not None
    assert len(wire_server.requests) == 1


def test_loopback_is_refused_and_never_reached(wire_server: WireServer) -> None:
    message = refused(ask(wire_server.base_url, team()))
    assert f"127.0.0.1:{wire_server.port} is a loopback address" in message
    assert "allowed_servers" in message
    assert wire_server.requests == []


@pytest.mark.parametrize(("url", "words"), [
    ("http://169.254.169.254/latest/meta-data/", "the cloud metadata service"),
    ("http://[fd00:ec2::254]/v1", "the cloud metadata service"),
    ("http://10.20.30.40:8080/v1", "a private network address"),
    ("http://192.168.1.1/v1", "a private network address"),
    ("http://169.254.10.10/v1", "a link-local address"),
    ("http://[::1]:9/v1", "a loopback address"),
    ("http://[::ffff:127.0.0.1]:9/v1", "a loopback address"),
    ("http://0.0.0.0:9/v1", "the unspecified address"),
])
def test_internal_addresses_are_refused_with_the_reason(url: str, words: str) -> None:
    # Refused before any connection: none of these is tried (a connection would hang or fail).
    message = refused(ask(url, team()))
    assert words in message


def test_a_name_that_resolves_to_loopback_is_refused(wire_server: WireServer) -> None:
    message = refused(ask(f"http://internal.example:{wire_server.port}/v1", team()))
    assert "internal.example resolves to 127.0.0.1" in message
    message = refused(ask(f"http://localhost:{wire_server.port}/v1", team()))
    assert "localhost resolves to" in message and "loopback" in message
    assert wire_server.requests == []


def test_a_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    message = refused(ask("https://mixed.example/v1", team()))
    assert "mixed.example resolves to 10.0.0.7" in message


def test_a_redirect_to_another_server_is_not_followed(
        wire_server: WireServer, other_server: WireServer) -> None:
    listed = team(f"127.0.0.1:{wire_server.port}", f"127.0.0.1:{other_server.port}")
    wire_server.script(Reply(status=307, body=b"", headers={
        "Location": f"http://127.0.0.1:{other_server.port}/v1/chat/completions"}))
    message = refused(ask(wire_server.base_url, listed))
    assert f"redirected the request to http://127.0.0.1:{other_server.port}" in message
    assert "another server" in message
    assert len(wire_server.requests) == 1 and other_server.requests == []


def test_a_redirect_to_loopback_from_an_allowed_server_is_refused(
        wire_server: WireServer) -> None:
    # The allowed server is known by name; it sends the request on to the server's loopback.
    policy = team(f"http://llm.test:{wire_server.port}")
    wire_server.script(Reply(status=307, body=b"", headers={"Location": "http://127.0.0.1:9/x"}))
    message = refused(ask(f"http://llm.test:{wire_server.port}/v1", policy))
    assert "redirected the request to http://127.0.0.1:9, another server" in message
    assert [r.path for r in wire_server.requests] == ["/v1/chat/completions"]


def test_a_redirect_within_the_same_server_is_followed(wire_server: WireServer) -> None:
    wire_server.script(Reply(status=307, body=b"", headers={
        "Location": f"{wire_server.base_url}/chat/completions?moved=1"}))
    result = ask(wire_server.base_url, team(f"127.0.0.1:{wire_server.port}"))
    assert result.error is None, result.error
    assert wire_server.requests[-1].path.endswith("?moved=1")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/v1", "file:///etc/passwd",
                                 "gopher://internal.example:70/v1"])
def test_non_http_schemes_are_refused(url: str) -> None:
    message = refused(ask(url, team("internal.example")))
    assert "is not HTTP" in message


def test_a_listed_server_works_whatever_it_resolves_to(wire_server: WireServer) -> None:
    result = ask(f"http://llm.test:{wire_server.port}/v1",
                 team(f"http://llm.test:{wire_server.port}"))
    assert result.error is None and result.message is not None
    [sent] = wire_server.requests
    assert sent.headers["host"] == f"llm.test:{wire_server.port}"  # name kept, address pinned
    assert KEY in sent.headers["authorization"]


def test_with_a_list_only_listed_servers_are_reached(wire_server: WireServer) -> None:
    policy = team("https://api.openai.com")
    message = refused(ask("https://llm.test/v1", policy))
    assert "https://llm.test:443 is not one of the servers" in message
    # The list is by origin: another port of a listed host is another server.
    assert "is not one of the servers" in refused(ask("http://api.openai.com/v1", policy))


def test_the_model_list_is_checked_too(wire_server: WireServer) -> None:
    with make_client(Timeouts(connect=5.0), policy=team()) as client, \
            pytest.raises(EgressRefused, match="loopback"):
        fetch_models(endpoint(wire_server.base_url), client)
    assert wire_server.requests == []


def test_mcp_over_http_connections_are_guarded(wire_server: WireServer) -> None:
    async def post() -> None:
        async with httpx.AsyncClient(transport=async_guarded_transport(team())) as client:
            await client.post(f"http://internal.example:{wire_server.port}/mcp", json={})

    with pytest.raises(EgressRefused, match=r"internal\.example resolves to 127\.0\.0\.1"):
        asyncio.run(post())
    assert wire_server.requests == []


def test_clients_report_their_policy() -> None:
    policy = team("llm.test")
    with make_client(Timeouts(), policy=policy) as guarded:
        assert policy_of(guarded) is policy  # fails if httpx moves the pool's backend
    with make_client(Timeouts(), transport=httpx.MockTransport(lambda r: httpx.Response(200))) \
            as in_process:
        assert not policy_of(in_process).restricted


def test_address_kinds_and_entries() -> None:
    import ipaddress
    assert address_kind(ipaddress.ip_address("8.8.8.8")) == ""
    assert address_kind(ipaddress.ip_address("100.64.0.1")) == "a private network address"
    assert Allowed.parse("https://api.openai.com/v1") == Allowed("api.openai.com", 443, "https")
    assert Allowed.parse("localhost:11434") == Allowed("localhost", 11434, "")
    assert Allowed.parse("ollama") == Allowed("ollama", None, "")
    with pytest.raises(ValueError, match="not a number"):
        Allowed.parse("host:port")


def test_a_client_without_its_own_policy_follows_the_process_policy(
        wire_server: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from core import egress
    with make_client(Timeouts(connect=5.0)) as client:  # made before team mode was applied
        monkeypatch.setattr(egress, "_current", team())
        with pytest.raises(EgressRefused, match="loopback"):
            fetch_models(endpoint(wire_server.base_url), client)
        monkeypatch.setattr(egress, "_current", EgressPolicy())
        assert fetch_models(endpoint(wire_server.base_url), client)
