"""The MCP manager against real servers nobody on the team wrote: `mcp-server-time` (PyPI) over
stdio and `@modelcontextprotocol/server-everything` (npm) over stdio and streamable HTTP on
127.0.0.1; plus each failure: a missing command, an unset variable, a server that crashes
mid-call, a timeout, an invalid answer, an HTTP server that is down or answers 401; and process
clean-up after many reconnects and at shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from core.tools.mcp_client import McpManager
from core.tools.mcp_config import McpServerConfig
from core.tools.mcp_results import render_result
from tests.support.mcp_servers import (
    ROOT,
    everything_http,
    everything_stdio,
    marked_processes,
    new_mark,
    odd_server,
    time_server,
    unauthorized_http,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def manager():
    made = McpManager(environ={"PATH": os.environ["PATH"], "MCP_TOKEN": "s3cret-token-value"})
    yield made
    made.shutdown()


def test_time_server_lists_tools_with_schemas_and_annotations_and_answers(manager):
    manager.sync([time_server()])
    status = manager.wait_ready("time")
    assert status.state == "connected", status.reason
    assert status.server_name == "mcp-time" and status.server_version
    tools = {t.name: t for t in status.tools}
    assert set(tools) == {"get_current_time", "convert_time"}
    current = tools["get_current_time"]
    assert current.input_schema["required"] == ["timezone"]
    assert current.annotations["readOnlyHint"] is True
    run = manager.call("time", "get_current_time", {"timezone": "Asia/Tokyo"})
    assert not run.error and not run.is_error
    answer = json.loads(render_result(run.result).text)
    assert answer["timezone"] == "Asia/Tokyo" and answer["datetime"].endswith("+09:00")
    assert run.duration_s > 0


def test_a_tool_error_is_a_result_marked_is_error(manager):
    manager.sync([time_server()])
    manager.wait_ready("time")
    run = manager.call("time", "get_current_time", {"timezone": "Nowhere/Atlantis"})
    assert not run.error and run.is_error
    rendered = render_result(run.result)
    assert rendered.is_error and "Invalid timezone" in rendered.text


def test_everything_server_over_streamable_http(manager):
    with everything_http() as url:
        manager.sync([McpServerConfig(name="everything", url=url)])
        status = manager.wait_ready("everything")
        assert status.state == "connected", status.reason
        assert status.transport == "http"
        names = {t.name for t in status.tools}
        assert {"echo", "get-sum", "get-tiny-image", "get-structured-content"} <= names
        run = manager.call("everything", "echo", {"message": "hi there"})
        assert "hi there" in render_result(run.result).text
        image = manager.call("everything", "get-tiny-image", {})
        rendered = render_result(image.result)
        assert rendered.images and rendered.images[0].mime_type == "image/png"
        assert rendered.images[0].data.startswith(b"\x89PNG")
        tool = next(t for t in status.tools if t.name == "get-structured-content")
        assert tool.output_schema
        structured = manager.call("everything", "get-structured-content",
                                  {"location": "New York"})
        checked = render_result(structured.result, tool.output_schema)
        assert checked.has_structured and checked.violations == []
        broken_schema = {**tool.output_schema, "required": ["no_such_field"]}
        assert [v.message for v in render_result(structured.result, broken_schema).violations]


def test_a_command_that_does_not_exist_is_named(manager):
    manager.sync([McpServerConfig(name="ghost", command="toolsmith-no-such-server")])
    status = manager.wait_ready("ghost")
    assert status.state == "failed"
    assert "'toolsmith-no-such-server' was not found" in status.reason
    run = manager.call("ghost", "anything", {})
    assert run.error_kind == "not_connected" and "Reconnect" in run.error


def test_an_unset_variable_is_named_and_nothing_starts(manager):
    mark = new_mark()
    manager.sync([time_server(mark=mark, env=(("TZ_TOKEN", "${NOT_SET_ANYWHERE}"),))])
    status = manager.wait_ready("time")
    assert status.state == "failed" and "${NOT_SET_ANYWHERE}" in status.reason
    assert marked_processes(mark) == []


def test_http_server_down(manager):
    from tests.support.mcp_servers import free_port
    manager.sync([McpServerConfig(name="down", url=f"http://127.0.0.1:{free_port()}/mcp")])
    status = manager.wait_ready("down")
    assert status.state == "failed" and "Nothing answers at" in status.reason


def test_http_401_says_credentials_and_sends_the_resolved_header_but_never_shows_it(manager):
    with unauthorized_http() as (url, seen):
        manager.sync([McpServerConfig(name="locked", url=url,
                                      headers=(("Authorization", "Bearer ${MCP_TOKEN}"),))])
        status = manager.wait_ready("locked")
    assert status.state == "failed" and "401 Unauthorized" in status.reason
    assert seen and seen[0]["Authorization"] == "Bearer s3cret-token-value"
    assert "s3cret" not in repr(status)


def test_a_server_crashing_mid_call_fails_the_call_and_keeps_its_stderr(manager):
    manager.sync([odd_server()])
    assert manager.wait_ready("odd").state == "connected"
    run = manager.call("odd", "crash", {})
    assert run.error_kind == "exited" and "closed the connection" in run.error
    wait_for(lambda: manager.status("odd").state == "failed", what="the failed state")
    status = manager.status("odd")
    assert "exited or crashed" in status.reason
    assert "the odd server fell over" in status.stderr_tail
    manager.reconnect("odd")
    assert manager.wait_ready("odd").state == "connected"


def test_a_real_server_killed_mid_call(manager):
    mark = new_mark()
    manager.sync([everything_stdio(mark=mark)])
    assert manager.wait_ready("everything").state == "connected"
    [pid] = marked_processes(mark)
    import threading
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("run", manager.call(
        "everything", "trigger-long-running-operation", {"duration": 30, "steps": 3})))
    worker.start()
    wait_for(lambda: manager.calls_in_flight("everything") == 1, what="the call to be sent")
    os.kill(pid, signal.SIGKILL)
    worker.join(60)
    assert result["run"].error_kind == "exited"


def test_timeout(manager):
    manager.sync([everything_stdio(timeout_s=1)])
    assert manager.wait_ready("everything").state == "connected"
    run = manager.call("everything", "trigger-long-running-operation",
                       {"duration": 20, "steps": 2})
    assert run.error_kind == "timeout" and "within 1 s" in run.error
    assert run.duration_s < 10
    # the connection survives a slow call
    assert "ok" in render_result(manager.call("everything", "echo",
                                              {"message": "ok"}).result).text


def test_invalid_answers(manager):
    manager.sync([odd_server(timeout_s=1)])
    assert manager.wait_ready("odd").state == "connected"
    run = manager.call("odd", "invalid_result", {})
    assert run.error_kind == "invalid" and "not a valid tools/call result" in run.error
    run = manager.call("odd", "garbage_then_silence", {})
    assert run.error_kind == "timeout" and "not an MCP message" in run.error
    # the server is told the call was given up (notifications/cancelled, as the spec asks)
    wait_for(lambda: "cancelled request" in manager.status("odd").stderr_tail,
             what="the cancellation to reach the server")
    assert "timed out after 1 s" in manager.status("odd").stderr_tail


def test_secrets_never_reach_status_stderr_or_results(manager):
    manager.sync([odd_server(env=(("MCP_ODD_SECRET", "${MCP_TOKEN}"),))])
    status = manager.wait_ready("odd")
    assert status.state == "connected"
    assert "token=[secret redacted]" in status.stderr_tail
    assert "s3cret" not in repr(status)
    run = manager.call("odd", "echo_env", {})
    assert run.result["content"][0]["text"] == "[secret redacted]"


def test_one_process_per_server_after_many_reconnects_and_none_after_shutdown():
    mark = new_mark()
    made = McpManager()
    try:
        made.sync([time_server(mark=mark)])
        for _ in range(6):
            assert made.wait_ready("time").state == "connected"
            made.reconnect("time")
        assert made.wait_ready("time").state == "connected"
        assert made.status("time").connects == 7
        wait_for(lambda: len(marked_processes(mark)) == 1, what="one time-server process")
        made.sync([time_server(mark=mark, args=("--local-timezone", "Asia/Tokyo"))])
        assert made.wait_ready("time").state == "connected"
        wait_for(lambda: len(marked_processes(mark)) == 1, what="one process after a change")
        made.sync([])
        wait_for(lambda: marked_processes(mark) == [], what="none after removal")
        made.sync([time_server(mark=mark)])
        assert made.wait_ready("time").state == "connected"
    finally:
        made.shutdown()
    assert marked_processes(mark) == []


def test_no_server_process_outlives_the_app_process(tmp_path):
    """A process using the shared manager exits (as the app does at stop): atexit ends its
    servers, and a server whose parent was killed outright exits when its stdin closes."""
    mark = new_mark()
    script = tmp_path / "app.py"
    script.write_text(
        "import sys\n"
        "from core.tools.mcp_client import manager\n"
        "from tests.support.mcp_servers import time_server\n"
        f"manager().sync([time_server(mark={mark!r})])\n"
        "assert manager().wait_ready('time').state == 'connected'\n"
        "print('ready', flush=True)\n"
        "if sys.argv[1] == 'wait': sys.stdin.read()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), "exit"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ready", done.stderr
    assert marked_processes(mark) == []
    killed = subprocess.Popen([sys.executable, str(script), "wait"], env=env, cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline().strip() == "ready"
    assert len(marked_processes(mark)) == 1
    killed.kill()
    killed.wait(10)
    wait_for(lambda: marked_processes(mark) == [], what="the orphaned server to exit")
