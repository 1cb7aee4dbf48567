"""The mcpServers file: where it is, what it may hold, references resolved only at start, and
writing back without losing what Toolsmith does not know."""

from __future__ import annotations

import json

import pytest

from core.tools.mcp_config import (
    McpConfigError,
    McpServerConfig,
    MissingVariable,
    config_path,
    load_config,
    redact_secrets,
    resolved,
    save_servers,
    secret_values,
    shown_value,
)


def test_path_from_variable_else_data_dir(tmp_path):
    assert config_path({"TOOLSMITH_MCP_CONFIG": str(tmp_path / "x.json")}) == tmp_path / "x.json"
    assert config_path({"TOOLSMITH_DATA_DIR": str(tmp_path)}) == tmp_path / "mcp.json"


def test_claude_desktop_file_loads_both_transports(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "UTC"}},
        "remote": {"url": "http://127.0.0.1:3001/mcp",
                   "headers": {"Authorization": "Bearer ${GITHUB_TOKEN}"}, "timeout": 5},
    }, "globalShortcut": "Ctrl+Space"}))
    config = load_config(path)
    assert config.problems == []
    time, remote = config.servers
    assert (time.transport, time.args, dict(time.env)) == ("stdio", ("mcp-server-time",),
                                                           {"TZ": "UTC"})
    assert (remote.transport, remote.timeout_s) == ("http", 5.0)
    assert remote.references() == ["GITHUB_TOKEN"]


@pytest.mark.parametrize(("entry", "message"), [
    ({}, "either 'command'"),
    ({"command": "x", "url": "http://y"}, "not both"),
    ({"command": "x", "args": "--flag"}, "'args' must be a list"),
    ({"command": "x", "env": {"A": 1}}, "'env' must be an object of strings"),
    ({"url": "http://y", "type": "sse"}, "legacy SSE"),
    ({"command": "x", "timeout": -1}, "'timeout'"),
])
def test_bad_entries_are_named_and_the_rest_still_loads(tmp_path, entry, message):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"bad": entry, "ok": {"command": "x"}}}))
    config = load_config(path)
    assert [s.name for s in config.servers] == ["ok"]
    assert len(config.problems) == 1 and message in config.problems[0]


@pytest.mark.parametrize("text", ["{not json", "[]", '{"mcpServers": []}',
                                  '{"mcpServers": ' + "[" * 5_000 + "]" * 5_000 + "}",
                                  '{"mcpServers": {"a": {"command": "x", "timeout": NaN}}}'])
def test_a_broken_file_is_reported_and_never_overwritten(tmp_path, text):
    path = tmp_path / "mcp.json"
    path.write_text(text)
    config = load_config(path)
    assert config.servers == [] and config.problems
    with pytest.raises(McpConfigError):
        save_servers(config, [McpServerConfig(name="n", command="x")])
    assert path.read_text() == text


def test_writing_back_keeps_unknown_keys_and_unparsed_entries(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "a": {"command": "x", "disabled": False, "autoApprove": ["t"]},
        "broken": {"command": 3}}, "other": 1}))
    config = load_config(path)
    (a,) = config.servers
    save_servers(config, [a, McpServerConfig(name="b", url="http://h/mcp",
                                             headers=(("X-Key", "${KEY}"),))])
    data = json.loads(path.read_text())
    assert data["other"] == 1
    assert data["mcpServers"]["a"] == {"disabled": False, "autoApprove": ["t"],
                                       "command": "x", "args": []}
    assert data["mcpServers"]["broken"] == {"command": 3}
    assert data["mcpServers"]["b"] == {"url": "http://h/mcp", "headers": {"X-Key": "${KEY}"}}


def test_references_resolve_only_on_request_and_missing_ones_are_named():
    server = McpServerConfig(name="s", command="run", args=("--token=${A}",),
                             env=(("B", "${B}"), ("PLAIN", "literal-secret")))
    real = resolved(server, {"A": "aaaa1", "B": "bbbb2"})
    assert real.args == ("--token=aaaa1",) and dict(real.env)["B"] == "bbbb2"
    assert server.args == ("--token=${A}",)  # the configuration itself is unchanged
    with pytest.raises(MissingVariable, match=r"\$\{B\}"):
        resolved(server, {"A": "x"})
    secrets = secret_values(server, {"A": "aaaa1", "B": "bbbb2"})
    assert set(secrets) == {"aaaa1", "bbbb2", "literal-secret"}
    assert redact_secrets("x aaaa1 literal-secret", secrets) == \
        "x [secret redacted] [secret redacted]"
    assert shown_value("${B}") == "${B}" and "literal-secret" not in shown_value("literal-secret")
