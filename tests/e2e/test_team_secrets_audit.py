"""The secrets audit in team mode: the server's own key (OPENAI_API_KEY in its environment) is
used for a signed-in teammate's requests and goes out to the server it was configured for
(checked), yet appears nowhere the teammate can reach: not in any page, not in any websocket
frame the browser received, not in an exported session, not in the database files, not in the
server's log. Another address in the sidebar gets neither the key nor a way to send it there,
and the egress policy refuses an unlisted server with its reason on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, WebSocket, expect

from tests.e2e import ui
from tests.e2e.conftest import StartServer, StreamlitServer, free_port
from tests.support.oidc import Person, Provider, auth_secrets, oidc_provider
from tests.support.wire_server import WireServer

KEY = "sk-test-TEAMAUDIT-5e1d0c9b"
NEEDLES = (KEY, "TEAMAUDIT-5e1d0c9b", "5e1d0c9b", KEY.encode().hex())
ADMIN = Person("lead", "lead@example.com", "Lead")
MEMBER = Person("member", "member@example.com", "Member")


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    with oidc_provider(free_port(), [ADMIN, MEMBER], tmp_path / "oidc.log") as running:
        yield running


@pytest.fixture
def model_server() -> Iterator[WireServer]:
    with WireServer() as server:
        yield server


def test_the_servers_key_is_used_but_never_reaches_a_teammate(
        start_server: StartServer, provider: Provider, model_server: WireServer,
        browser: Browser, tmp_path: Path) -> None:
    egress = f'\n[egress]\nallowed_servers = ["http://127.0.0.1:{model_server.port}"]\n'
    server: StreamlitServer = start_server(
        env={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": model_server.base_url,
             "OPENAI_MODEL": "gpt-4o-2024-08-06", "TOOLSMITH_WIRE_FORMAT": "openai"},
        secrets_for=lambda port: auth_secrets(provider, port, admins=[ADMIN.email],
                                              extra=egress))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    frames: list[bytes] = []

    def listen(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(
            payload if isinstance(payload, bytes) else payload.encode()))

    page.on("websocket", listen)
    texts: dict[str, str] = {}
    page.goto(server.url)
    texts["sign-in page"] = page.content()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=MEMBER.sub, exact=True).click()
    page.wait_for_url(f"{server.url}/**")
    expect(ui.sidebar(page).get_by_text("Signed in as Member")).to_be_visible()

    # The key is used for the teammate's request, to the server it was configured for.
    ui.ask(page, ui.SEED)
    expect(ui.result_box(page)).to_be_visible()
    assert model_server.requests and \
        model_server.requests[0].headers.get("authorization") == f"Bearer {KEY}"
    texts["chat"] = page.content()

    # Another address: the key is not sent there, and a teammate cannot choose to send it.
    ui.set_base_url(page, "https://llm.example.net/v1")
    expect(ui.sidebar(page).get_by_text("This server's key in OPENAI_API_KEY belongs to")) \
        .to_be_visible()
    expect(ui.sidebar(page).get_by_role("button", name="Send OPENAI_API_KEY to this server "
                                                       "too")).to_have_count(0)
    ui.sidebar(page).get_by_role("button", name="Load model list").click()
    expect(ui.sidebar(page).get_by_text("is not one of the servers this team server may "
                                        "send requests to")).to_be_visible()
    texts["sidebar, other address"] = page.content()
    ui.set_base_url(page, model_server.base_url)

    for name in ("Tools", "Evals", "Usage", "History"):
        ui.go_to(page, name)
        ui.no_exception(page)
        texts[name] = page.content()
    with page.expect_download() as download:
        ui.main(page).get_by_role("button", name="Export").click()
    texts["session export"] = Path(download.value.path()).read_text(errors="replace")
    assert "Boston" in texts["session export"]  # the export is the session, not an empty file
    context.close()

    data = Path(server.log_path).parent / "data"
    stored = {str(p): p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert any(p.endswith(".db") for p in stored), stored.keys()
    texts["server log"] = server.log()
    assert frames, "no websocket frame was seen"
    hits = [f"{label}: {n}" for label, text in texts.items() for n in NEEDLES if n in text]
    hits += [f"websocket frame: {n}" for frame in frames for n in NEEDLES
             if n.encode() in frame]
    hits += [f"{path}: {n}" for path, raw in stored.items() for n in NEEDLES
             if n.encode() in raw]
    assert hits == []
