"""Team mode in a real browser: Streamlit's own OpenID Connect sign-in against a real provider
(oidc-provider-mock on 127.0.0.1), each person in their own browser context."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e import ui
from tests.e2e.conftest import ROOT, StartServer, StreamlitServer, free_port
from tests.support.oidc import Person, Provider, auth_secrets, oidc_provider

ALICE = Person("alice", "alice@example.com", "Alice Admin")
BOB = Person("bob", "bob@example.com", "Bob Builder")
EVE = Person("eve", "eve@elsewhere.org", "Eve Outsider")
CAROL = Person("carol", "carol@example.com", "Carol Colleague")
WEATHER = ROOT / "tools" / "get_current_weather.yaml"


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    with oidc_provider(free_port(), [ALICE, BOB, EVE, CAROL], tmp_path / "oidc.log") as running:
        yield running


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """The team's shared tools/ folder: the seed tool."""
    folder = tmp_path / "shared-tools"
    folder.mkdir()
    shutil.copy(WEATHER, folder / WEATHER.name)
    return folder


SUITE = """name: weather
tools: [get_current_weather]
cases:
  - name: weather in one city
    messages: What's the weather like in Boston today?
    expect:
      tool: get_current_weather
"""


@pytest.fixture
def team_server(start_server: StartServer, provider: Provider, library: Path,
                tmp_path: Path) -> StreamlitServer:
    suites = tmp_path / "evals"
    suites.mkdir()
    (suites / "weather.yaml").write_text(SUITE)
    return start_server(env={"TOOLSMITH_TOOLS_DIR": str(library),
                             "TOOLSMITH_EVALS_DIR": str(suites)},
                        secrets_for=lambda port: auth_secrets(
        provider, port, admins=[ALICE.email], allowed_domains=["example.com"]))


SignIn = Callable[..., list[Page]]


def context(browser: Browser) -> BrowserContext:
    made = browser.new_context(viewport={"width": 1400, "height": 1000})
    made.set_default_timeout(20_000)
    return made


def sign_in(page: Page, server: StreamlitServer, person: Person, path: str = "") -> None:
    """Sign in from the address `path` (opened signed out), where sign-in brings one back."""
    page.goto(server.url + path)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=person.sub, exact=True).click()  # the provider's form
    page.wait_for_url(f"{server.url}{path or '/'}**")


@pytest.fixture
def signed_in(browser: Browser, team_server: StreamlitServer) -> Iterator[SignIn]:
    """`signed_in(BOB, CAROL)`: one browser context per person, each signed in on its page;
    the contexts close after the test."""
    made: list[BrowserContext] = []

    def sign(*people: Person) -> list[Page]:
        pages = []
        for person in people:
            made.append(context(browser))
            pages.append(made[-1].new_page())
            sign_in(pages[-1], team_server, person)
        return pages

    yield sign
    for each in made:
        each.close()


def sign_out(page: Page, server: StreamlitServer) -> None:
    """Sign out, through the provider's end-session page (Streamlit sends the browser there)."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{server.url}/**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_visitor_who_is_not_signed_in_sees_only_the_sign_in_page(
        browser: Browser, team_server: StreamlitServer) -> None:
    visitor = context(browser)
    page = visitor.new_page()
    for path in ("", "/history", "/usage?x=1"):
        page.goto(team_server.url + path)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_text("shared by a team")).to_be_visible()
        expect(page.get_by_text("Model server")).to_have_count(0)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        expect(page.get_by_role("link", name="History")).to_have_count(0)
        expect(page.get_by_text("Page not found")).to_have_count(0)  # the address is kept
    visitor.close()


def test_sign_in_shows_who_and_sign_out_ends_it(
        browser: Browser, team_server: StreamlitServer) -> None:
    alice, bob = context(browser), context(browser)
    a, b = alice.new_page(), bob.new_page()
    sign_in(a, team_server, ALICE)
    sign_in(b, team_server, BOB, "/history")  # opened on a page: signed in, back on it
    expect(ui.main(b).get_by_role("heading", name="History")).to_be_visible()
    sidebar_a = a.locator("[data-testid=stSidebar]")
    sidebar_b = b.locator("[data-testid=stSidebar]")
    expect(sidebar_a.get_by_text("Signed in as Alice Admin")).to_be_visible()
    expect(sidebar_a.get_by_text("admin", exact=False).last).to_be_visible()
    expect(sidebar_b.get_by_text("Signed in as Bob Builder")).to_be_visible()
    expect(sidebar_b.get_by_text("· admin")).to_have_count(0)
    expect(sidebar_b.get_by_text("Model server")).to_be_visible()
    sign_out(b, team_server)
    b.goto(team_server.url)
    expect(b.get_by_role("button", name="Sign in")).to_be_visible()
    expect(b.get_by_text("Signed in as")).to_have_count(0)
    a.reload()  # the other person is still signed in
    expect(sidebar_a.get_by_text("Signed in as Alice Admin")).to_be_visible()
    alice.close()
    bob.close()


def test_an_account_outside_the_allowed_domains_is_turned_away(
        browser: Browser, team_server: StreamlitServer) -> None:
    eve = context(browser)
    page = eve.new_page()
    sign_in(page, team_server, EVE)
    expect(page.get_by_text("eve@elsewhere.org may not use this Toolsmith server")).to_be_visible()
    expect(page.get_by_text("Model server")).to_have_count(0)
    sign_out(page, team_server)
    eve.close()


def session_in_url(page: Page) -> str:
    page.wait_for_url(re.compile(r"[?&]session=ses_"))
    return parse_qs(urlparse(page.url).query)["session"][0]


def test_two_people_work_apart_and_share_by_link(
        browser: Browser, team_server: StreamlitServer) -> None:
    alice, bob, carol = context(browser), context(browser), context(browser)
    a, b, c = alice.new_page(), bob.new_page(), carol.new_page()
    sign_in(a, team_server, ALICE)
    sign_in(b, team_server, BOB)
    ui.ask(a, "Alice asks: weather in Boston?")
    expect(ui.user_bubble(a, "Alice asks")).to_be_visible()
    expect(ui.result_box(a)).to_be_visible()
    ui.result_box(a).fill("ALICE-PRIVATE-DRAFT 72F")
    ui.result_box(a).press("Tab")
    alices = session_in_url(a)
    ui.ask(b, "Bob asks: weather in Oslo?")
    expect(ui.user_bubble(b, "Bob asks")).to_be_visible()
    bobs = session_in_url(b)

    # Each lists only their own; the other's ?session= shows nothing of it.
    ui.go_to(b, "History")
    expect(ui.main(b).get_by_text("Bob asks: weather in Oslo?")).to_be_visible()
    expect(ui.main(b).get_by_text("Alice asks")).to_have_count(0)
    b.goto(f"{team_server.url}/?session={alices}")
    expect(ui.main(b).get_by_text(f"No saved session {alices}:")).to_be_visible()
    expect(ui.main(b).get_by_text("Alice asks")).to_have_count(0)
    ui.go_to(a, "History")
    expect(ui.main(a).get_by_text("Alice asks: weather in Boston?")).to_be_visible()
    expect(ui.main(a).get_by_text("Bob asks")).to_have_count(0)
    assert bobs != alices

    # Alice shares hers: Bob opens the link, sees it read-only (not her draft) and forks it.
    ui.main(a).get_by_role("button", name="Manage").click()
    ui.main(a).get_by_text("Share with the team (read-only link)").click()
    link = ui.main(a).get_by_test_id("stCode").filter(has_text=f"?session={alices}")
    expect(link).to_be_visible()
    shared_link = link.inner_text().strip()
    # Carol, not signed in yet, opens the link: after signing in she lands on the session.
    c.goto(shared_link)
    c.get_by_role("button", name="Sign in").click()
    c.get_by_role("button", name=CAROL.sub, exact=True).click()  # the provider's form
    c.wait_for_url(re.compile(rf"[?&]session={alices}"))
    expect(ui.user_bubble(c, "Alice asks")).to_be_visible()
    expect(ui.main(c).get_by_text("Shared by alice@example.com")).to_be_visible()
    c.reload()  # the kept address is followed once, not on every visit
    expect(ui.user_bubble(c, "Alice asks")).to_be_visible()
    c.goto(team_server.url)
    expect(ui.user_bubble(c, "Alice asks")).to_have_count(0)
    b.goto(shared_link)
    expect(ui.user_bubble(b, "Alice asks")).to_be_visible()
    expect(ui.main(b).get_by_text("Shared by alice@example.com")).to_be_visible()
    expect(b.get_by_text("ALICE-PRIVATE-DRAFT")).to_have_count(0)
    ui.main(b).get_by_role("button", name="Fork to my sessions").click()
    expect(ui.main(b).get_by_text("Shared by")).to_have_count(0)
    fork = session_in_url(b)
    assert fork != alices
    ui.go_to(b, "History")
    expect(ui.main(b).get_by_text("Fork of Alice asks: weather in Boston?")).to_be_visible()
    a.reload()
    expect(ui.main(a).get_by_text("Fork of")).to_have_count(0)  # hers is unchanged, unlisted
    ui.no_exception(a)
    ui.no_exception(b)
    ui.no_exception(c)
    alice.close()
    bob.close()
    carol.close()


def test_only_admins_define_mcp_servers(signed_in: SignIn) -> None:
    a, b = signed_in(ALICE, BOB)
    ui.go_to(b, "Tools")
    expect(ui.main(b).get_by_text("MCP servers come from the admins' configuration")) \
        .to_be_visible()
    expect(ui.main(b).get_by_text("Add an MCP server")).to_have_count(0)
    ui.go_to(a, "Tools")
    expect(ui.main(a).get_by_text("Add an MCP server")).to_be_visible()


OWN_TOOL = """name: bobs_lookup
description: BOBS-OWN-TOOL looks up an order by its number
parameters:
  type: object
  properties:
    order: {type: string, description: The order number}
  required: [order]
"""


def test_a_members_own_tools_are_theirs_alone(
        signed_in: SignIn, team_server: StreamlitServer, library: Path, tmp_path: Path) -> None:
    shared = (library / WEATHER.name).read_text(encoding="utf-8")
    upload = tmp_path / "bobs_lookup.yaml"
    upload.write_text(OWN_TOOL)
    b, c = signed_in(BOB, CAROL)
    ui.go_to(b, "Tools")
    expect(ui.main(b).get_by_text("your own tools (0)")).to_be_visible()
    b.get_by_role("tab", name="Import / export").click()
    ui.main(b).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    ui.main(b).get_by_role("button", name="Import 1 tool(s)").click()
    b.get_by_role("tab", name="Library").click()
    expect(ui.main(b).get_by_text("your own tools (1)")).to_be_visible()
    expect(ui.main(b).get_by_text("BOBS-OWN-TOOL", exact=False).first).to_be_visible()
    assert sorted(p.name for p in library.iterdir()) == [WEATHER.name]  # tools/ untouched
    assert (library / WEATHER.name).read_text(encoding="utf-8") == shared
    [own] = (Path(team_server.log_path).parent / "data" / "user-tools").glob("*/*.yaml")
    assert own.name == "bobs_lookup.yaml"  # the mirror of Bob's database row
    # Kept in the database: the mirror is rebuilt from it (as another app server would).
    own.unlink()
    b.reload()
    expect(ui.main(b).get_by_text("BOBS-OWN-TOOL", exact=False).first).to_be_visible()
    ui.go_to(c, "Tools")
    expect(ui.main(c).get_by_text("your own tools (0)")).to_be_visible()
    expect(ui.main(c).get_by_text("Get the current weather", exact=False).first).to_be_visible()
    expect(c.get_by_text("BOBS-OWN-TOOL")).to_have_count(0)
    # An HTTP tool is the admins' to define: saving one as one's own is refused.
    b.get_by_role("tab", name="Editor").click()
    editor = b.get_by_test_id("tool-editor")
    editor.click()
    b.keyboard.press("Control+a")
    b.keyboard.insert_text(OWN_TOOL.replace("bobs_lookup", "bobs_fetch")
                           + "run:\n  http: {method: GET, url: 'http://127.0.0.1:9/'}\n")
    b.keyboard.press("Control+Enter")
    ui.main(b).get_by_role("button", name="Save").click()
    expect(ui.main(b).get_by_text("HTTP tools come only from the admins' configuration",
                                  exact=False)).to_be_visible()
    assert [p.name for p in own.parent.glob("*.yaml")] == ["bobs_lookup.yaml"]
    ui.no_exception(b)
    ui.no_exception(c)


def test_eval_runs_are_their_authors(signed_in: SignIn) -> None:
    b, c = signed_in(BOB, CAROL)
    ui.go_to(b, "Evals")
    ui.main(b).get_by_role("radiogroup").get_by_text("Run", exact=True).click()
    start = ui.main(b).get_by_role("button", name=re.compile(r"^Run \d+ request"))
    expect(start).to_be_enabled()
    start.click()
    expect(ui.main(b).get_by_role("button", name="Delete run")).to_be_visible()
    ui.go_to(c, "Evals")
    ui.main(c).get_by_role("radiogroup").get_by_text("Results", exact=True).click()
    expect(ui.main(c).get_by_text("No runs yet")).to_be_visible()
    b.reload()
    ui.main(b).get_by_role("radiogroup").get_by_text("Results", exact=True).click()
    expect(ui.main(b).get_by_text("No runs yet")).to_have_count(0)
    expect(ui.main(b).get_by_role("button", name="Delete run")).to_be_visible()
    ui.no_exception(b)
    ui.no_exception(c)


def test_a_broken_auth_section_is_a_message_not_a_traceback(
        browser: Browser, start_server: StartServer) -> None:
    server = start_server(secrets_for=lambda port: (
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "team-mode-test-cookie-secret-0123456789abcdef"\n'))  # no provider
    visitor = context(browser)
    page = visitor.new_page()
    page.goto(server.url)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Sign-in could not start")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text("Model server")).to_have_count(0)
    visitor.close()
