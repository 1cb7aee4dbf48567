"""The Tools page's MCP section through AppTest, with the real `mcp-server-time` over stdio:
states and reasons, tools with badges and strict-mode findings, the Send switch reaching the
Chat page's request, Copy into the library, and add / edit / remove written to mcp.json,
with secrets never on the page."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from core.tools.mcp_client import manager
from tests.support.apptest import rendered_text, run
from tests.support.mcp_servers import TIME_SERVER

ROOT = Path(__file__).resolve().parents[2]
TIME = {"command": str(TIME_SERVER), "args": ["--local-timezone", "UTC"]}


@pytest.fixture
def mcp_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """mcp.json in the test's data dir, a copy of the tool library, and no server left
    running after the test (the manager is process-wide)."""
    tools = tmp_path / "tools"
    shutil.copytree(ROOT / "tools", tools)
    clean_env.setenv("TOOLSMITH_TOOLS_DIR", str(tools))
    data = Path(os.environ["TOOLSMITH_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    try:
        yield data / "mcp.json"
    finally:
        manager().sync([])


def write(path: Path, servers: dict) -> None:
    path.write_text(json.dumps({"mcpServers": servers}))


@pytest.fixture
def tools_page(make_app: Callable[[], AppTest], mcp_file: Path) -> Callable[[], AppTest]:
    def make() -> AppTest:
        at = make_app()
        at.switch_page("app_pages/tools.py")
        return run(at)
    return make


def test_servers_tools_badges_and_strict_findings(tools_page, mcp_file):
    write(mcp_file, {"time": TIME, "ghost": {"command": "toolsmith-not-installed"}})
    at = tools_page()
    text = rendered_text(at)
    assert "**`time`** — mcp-time" in text and "connected" in text
    assert "**`get_current_time`** `read-only` `idempotent`" in text
    assert "breaks strict mode" in text  # the real server's schema is not strict-ready
    assert "'toolsmith-not-installed' was not found" in "\n".join(e.value for e in at.error)
    assert at.toggle(key="tools.mcp.send.time.get_current_time").value is True


def test_send_switch_decides_what_the_chat_sends(tools_page, mcp_file):
    write(mcp_file, {"time": TIME})
    at = tools_page()
    at.switch_page("app_pages/chat.py")
    run(at)
    assert "`get_current_time`" in at.caption[0].value + "".join(c.value for c in at.caption)
    at.switch_page("app_pages/tools.py")
    run(at)
    at.toggle(key="tools.mcp.send.time.get_current_time").set_value(False)
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    sent = next(c.value for c in at.caption if "tools sent" in c.value)
    assert "`convert_time`" in sent and "`get_current_time`" not in sent


def test_copy_into_the_library_makes_an_editable_yaml_copy(tools_page, mcp_file, tmp_path):
    write(mcp_file, {"time": TIME})
    at = tools_page()
    at.button(key="tools.mcp.copy.time.convert_time").click()
    run(at)
    copied = yaml.safe_load((tmp_path / "tools" / "convert_time.yaml").read_text())
    assert copied["name"] == "convert_time"
    assert copied["parameters"]["required"] == ["source_timezone", "time", "target_timezone"]
    assert any("Copied `convert_time`" in s.value for s in at.success)
    assert at.toggle(key="tools.mcp.send.time.convert_time").value is False
    assert at.button(key="tools.edit.convert_time")  # listed in the library, editable


def test_add_edit_remove_are_written_to_the_file_and_secrets_stay_hidden(
        tools_page, mcp_file, clean_env):
    clean_env.setenv("REMOTE_TOKEN", "tok-very-secret-123")
    at = tools_page()
    form = "tools.mcp.new"
    at.text_input(key=f"{form}.name").input("remote")
    at.radio(key=f"{form}.kind").set_value("URL (streamable HTTP)")
    at.text_input(key=f"{form}.url").input("http://127.0.0.1:9/mcp")
    at.text_area(key=f"{form}.headers").input(
        "Authorization: Bearer ${REMOTE_TOKEN}\nX-Literal: literal-secret-456")
    at.button(key=f"FormSubmitter:{form}-Add server").click()
    run(at)
    saved = json.loads(mcp_file.read_text())["mcpServers"]["remote"]
    assert saved["headers"] == {"Authorization": "Bearer ${REMOTE_TOKEN}",
                                "X-Literal": "literal-secret-456"}
    text = rendered_text(at)
    assert "tok-very-secret" not in text and "literal-secret-456" not in text
    assert "Nothing answers at" in text and "127.0.0.1:9/mcp" in text
    # Edit: the hidden literal is kept, the timeout changes
    edit = "tools.mcp.edit.remote"
    at.number_input(key=f"{edit}.timeout").set_value(5.0)
    at.button(key=f"FormSubmitter:{edit}-Save server").click()
    run(at)
    saved = json.loads(mcp_file.read_text())["mcpServers"]["remote"]
    assert saved["timeout"] == 5.0 and saved["headers"]["X-Literal"] == "literal-secret-456"
    at.button(key="tools.mcp.remove.remote").click()
    run(at)
    assert json.loads(mcp_file.read_text())["mcpServers"] == {}
    assert manager().status("remote") is None


def test_a_bad_entry_is_refused_with_its_reason(tools_page, mcp_file):
    at = tools_page()
    form = "tools.mcp.new"
    at.text_input(key=f"{form}.name").input("bad name!")
    at.text_input(key=f"{form}.command").input("x")
    at.button(key=f"FormSubmitter:{form}-Add server").click()
    run(at)
    assert any("Not saved: a server name is" in e.value for e in at.error)
    assert not mcp_file.exists()
