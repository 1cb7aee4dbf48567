"""Several app servers on one PostgreSQL behind nginx, as the README's recipe sets them up.

Two real Streamlit servers share a PostgreSQL schema; Debian's nginx runs
deploy/nginx-toolsmith.conf (only the ports changed, and a header naming the app server that
answered, so the test can steer each browser to the server it wants through the routing
cookie). Two people, each signed in through both servers: what one saves through one server
is listed through the other, and neither sees anything of the other's.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e import ui
from tests.e2e.conftest import ROOT, StartServer, StreamlitServer, free_port
from tests.support.history import PG_URL, backend
from tests.support.oidc import Person, Provider, auth_secrets, oidc_provider

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RECIPE = ROOT / "deploy" / "nginx-toolsmith.conf"
ALICE = Person("alice", "alice@example.com", "Alice")
BOB = Person("bob", "bob@example.com", "Bob")

pytestmark = [
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (.ci/run "
                       "installs Debian's nginx)"),
    pytest.mark.skipif(not PG_URL, reason="TOOLSMITH_TEST_DATABASE_URL is not set"),
]


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> Path:
    recipe = RECIPE.read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, recipe)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("add_header Set-Cookie",
                        "add_header X-Toolsmith-Upstream $upstream_addr always;\n"
                        "        add_header Set-Cookie")
    assert site != recipe and servers in site
    (tmp / "toolsmith.conf").write_text(site)
    conf = tmp / "nginx.conf"
    temp = "\n".join(f"    {name}_temp_path {tmp / name};"
                     for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf.write_text(f"""daemon off;
pid {tmp / 'nginx.pid'};
error_log {tmp / 'error.log'};
events {{}}
http {{
    access_log off;
{temp}
    include {tmp / 'toolsmith.conf'};
}}
""")
    return conf


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    with oidc_provider(free_port(), [ALICE, BOB], tmp_path / "oidc.log") as running:
        yield running


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with backend("postgres", tmp_path) as found:
        yield found.url


@pytest.fixture
def farm(start_server: StartServer, provider: Provider, database_url: str,
         tmp_path: Path) -> Iterator[tuple[str, dict[int, str]]]:
    """(nginx's address, {app server port: routing cookie value that reaches it})."""
    port = free_port()
    apps: list[StreamlitServer] = [
        start_server(env={"TOOLSMITH_DATABASE_URL": database_url},
                     secrets_for=lambda _app_port: auth_secrets(provider, port))
        for _ in range(2)]
    home = tmp_path / "nginx"
    home.mkdir()
    conf = nginx_config(home, port, [app.port for app in apps])
    log = (home / "stdout.log").open("wb")
    process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(home), "-e",
                                str(home / "error.log")], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(port, process, home)
        yield url, _route_keys(url, {app.port for app in apps})
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_for(port: int, process: subprocess.Popen[bytes], home: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            try:
                code = process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"nginx exited with {code}: "
                                 f"{(home / 'error.log').read_text(errors='replace')}") from None
    raise AssertionError("nginx did not start")


def _route_keys(url: str, ports: set[int]) -> dict[int, str]:
    """A routing-cookie value for each app server, found by asking nginx where each goes."""
    keys: dict[int, str] = {}
    with httpx.Client(timeout=5) as client:
        for n in range(200):
            key = f"route-{n}"
            client.cookies.clear()  # only the key under test, not the one nginx set last
            answer = client.get(f"{url}/_stcore/health",
                                headers={"Cookie": f"toolsmith_route={key}"})
            assert answer.text.strip() == "ok"
            port = int(answer.headers["x-toolsmith-upstream"].rsplit(":", 1)[1])
            assert answer.cookies.get("toolsmith_route") == key  # the key is kept, not reset
            keys.setdefault(port, key)
            if set(keys) == ports:
                return keys
    raise AssertionError(f"nginx sent every key to the same server: {keys}")


def signed_in(browser: Browser, url: str, route: str, person: Person) -> Page:
    made: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 1000})
    made.set_default_timeout(30_000)
    made.add_cookies([{"name": "toolsmith_route", "value": route, "url": url}])
    page = made.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=person.sub, exact=True).click()
    page.wait_for_url(f"{url}/**")
    expect(ui.sidebar(page).get_by_text(f"Signed in as {person.name}")).to_be_visible()
    return page


def kept(page: Page, text: str) -> str:
    """The id of the session the question was saved in (the page's URL names it)."""
    expect(ui.user_bubble(page, text)).to_be_visible()
    expect(ui.result_box(page)).to_be_visible()
    page.wait_for_url(re.compile(r"[?&]session=ses_"))
    return parse_qs(urlparse(page.url).query)["session"][0]


def history_titles(page: Page) -> Page:
    ui.go_to(page, "History")
    return page


def test_two_servers_one_database_each_person_sees_their_own(
        browser: Browser, farm: tuple[str, dict[int, str]]) -> None:
    url, routes = farm
    first, second = sorted(routes)
    alice_1 = signed_in(browser, url, routes[first], ALICE)
    bob_2 = signed_in(browser, url, routes[second], BOB)
    # Both work at once, each through another server.
    ui.ask(alice_1, "Alice via one: weather in Boston?")
    ui.ask(bob_2, "Bob via two: weather in Oslo?")
    alices = kept(alice_1, "Alice via one: weather in Boston?")
    bobs = kept(bob_2, "Bob via two: weather in Oslo?")
    assert alices != bobs

    # The same people through the other server: their own sessions are there, whole.
    alice_2 = signed_in(browser, url, routes[second], ALICE)
    bob_1 = signed_in(browser, url, routes[first], BOB)
    main_a, main_b = ui.main(history_titles(alice_2)), ui.main(history_titles(bob_1))
    expect(main_a.get_by_text("Alice via one: weather in Boston?")).to_be_visible()
    expect(main_b.get_by_text("Bob via two: weather in Oslo?")).to_be_visible()
    expect(main_a.get_by_text("Bob via two")).to_have_count(0)
    expect(main_b.get_by_text("Alice via one")).to_have_count(0)
    alice_2.goto(f"{url}/?session={alices}")
    expect(ui.user_bubble(alice_2, "Alice via one: weather in Boston?")).to_be_visible()
    bob_1.goto(f"{url}/?session={alices}")
    expect(ui.main(bob_1).get_by_text(f"No saved session {alices}:")).to_be_visible()
    for page in (alice_1, bob_2, alice_2, bob_1):
        ui.no_exception(page)
        page.context.close()
