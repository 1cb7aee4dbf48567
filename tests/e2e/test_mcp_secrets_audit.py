"""The secrets audit, extended to MCP configuration: a marked token reaches two servers only
through `${MCP_AUDIT_TOKEN}` references (a stdio server's env, which prints it to stderr and
returns it from a tool, and an HTTP server's Authorization header, which answers 401), and a
second marked value is typed literally into a header. The session goes through the Tools page
(states, stderr, edit forms), a Chat call approved and sent, the inspector, History and its
export; then both values are searched for in every page state, the export, every database
row and the raw SQLite bytes, mcp.json's shown parts, and the server log. Zero hits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer
from tests.e2e.test_secrets_audit import Audit, database_texts
from tests.e2e.ui import ask, bubbles, by_key, go_to, main, open_chat
from tests.support.mcp_servers import ODD_SERVER, unauthorized_http

pytestmark = pytest.mark.e2e

TOKEN = "mcp-AUDIT-51d0c3b8e2"
LITERAL = "literal-AUDIT-9a77e4"
NEEDLES = (TOKEN, "51d0c3b8e2", LITERAL, "9a77e4")


def test_mcp_secrets_appear_nowhere(start_server: StartServer, page: Page, tmp_path: Path,
                                    ) -> None:
    with unauthorized_http() as (url, seen):
        config = tmp_path / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {
            "odd": {"command": "python3", "args": [str(ODD_SERVER)],
                    "env": {"MCP_ODD_SECRET": "${MCP_AUDIT_TOKEN}"}},
            "locked": {"url": url, "headers": {"Authorization": "Bearer ${MCP_AUDIT_TOKEN}",
                                               "X-Api-Key": LITERAL}},
        }}))
        server = start_server(env={"MCP_AUDIT_TOKEN": TOKEN,
                                   "TOOLSMITH_MCP_CONFIG": str(config)})
        audit = Audit(page)
        open_chat(page, server.url)
        go_to(page, "Tools")
        expect(main(page).get_by_text(re.compile(r"odd\s*— odd-server 0.1 · connected"))) \
            .to_be_visible()
        expect(main(page).get_by_text("answered 401 Unauthorized").first).to_be_visible()
        stderr = main(page).get_by_text("stderr (last lines)").first
        stderr.click()
        expect(main(page).get_by_text("token=[secret redacted]").first).to_be_visible()
        for name in ("odd", "locked"):
            main(page).get_by_text("Edit this server").nth(0 if name == "odd" else 1).click()
        expect(by_key(page, "tools.mcp.edit.locked.headers").get_by_role("textbox")) \
            .to_have_value(re.compile(r"X-Api-Key: •••• \(kept\)"))
        audit.snap("tools, servers and edit forms")

        go_to(page, "Chat")
        ask(page, "Echo env please")
        expect(bubbles(page).filter(has_text="call id")).to_contain_text("echo_env")
        main(page).get_by_role("button", name="Approve and run").click()
        box = page.get_by_label(re.compile(r"^Result of echo_env \([\w-]+\)$"))
        expect(box).to_have_value("[secret redacted]")
        audit.snap("chat, result filled")
        page.get_by_role("button", name="Send tool results").click()
        expect(bubbles(page).filter(has_text="Here is what I found")).to_have_count(1)
        result = bubbles(page).filter(has_text=re.compile(r"Result of echo_env for call"))
        result.locator("[class*='st-key-chat-inspect-']").get_by_role("button").click()
        expect(main(page).get_by_text("MCP call").first).to_be_visible()
        main(page).get_by_role("tab", name="Result").click()
        audit.snap("chat, inspector of the MCP call")

        go_to(page, "History")
        with page.expect_download() as download:
            main(page).get_by_role("button", name="Export").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert '"wire": "mcp"' in exported  # the call is in the export
        audit.add("session export", exported)

    # The token really went out: in the HTTP server's header and the stdio server's env
    # (it printed it, and returned it; both were redacted above).
    assert seen and seen[0]["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0]["X-Api-Key"] == LITERAL
    for label, text in database_texts(server.log_path.parent / "data").items():
        audit.add(f"database {label}", text)
    audit.add("streamlit log", server.log())
    hits = [f"{label}: {needle!r}" for label, text in audit.texts.items()
            for needle in NEEDLES if needle in text]
    assert hits == []
    assert "'exchanges': 0" not in audit.texts["database row counts"]
