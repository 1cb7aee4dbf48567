"""`python -m toolsmith eval`: exit codes, the table and summary, JUnit and JSON, keys from the
environment and secrets.toml, and the run recorded in the app's database."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.evals.records import EvalRecords
from core.store import Store
from tests.support.eval_server import EvalServer
from tests.support.wire_server import WireServer
from toolsmith.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAILING = """
name: mixed
tools: [get_current_weather]
cases:
  - name: boston
    messages: What's the weather like in Boston today?
    expect: {tool: get_current_weather, args: {location: {matches: "^Boston"}}}
  - name: expects silence
    messages: What's the weather like in Boston today?
    expect: {no_tool: true}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TOOLSMITH_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}


def cli(tmp_path: Path, env: dict[str, str], *args: str) -> int:
    return main(["eval", *args], env=env, cwd=tmp_path)


def runs(env: dict[str, str]) -> list:
    return EvalRecords(Store.open(f"sqlite:///{env['TOOLSMITH_DATA_DIR']}/toolsmith.db")).runs()


def test_a_passing_suite_exits_0_with_junit_and_json(tmp_path: Path, env: dict[str, str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    junit, out_json = tmp_path / "junit.xml", tmp_path / "out.json"
    code = cli(tmp_path, env, str(ROOT / "evals" / "library_tools.yaml"), "--demo",
               "--repeat", "2", "--junit", str(junit), "--json", str(out_json))
    out = capsys.readouterr().out
    assert code == 0
    assert "weather in one city" in out and "2/2 pass" in out
    assert out.strip().splitlines()[-1].startswith("6/6 cells meet the minimum pass rate 100%")
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "6" and suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert len(cases) == 6 and all(c.find("failure") is None for c in cases)
    assert cases[0].get("classname") == "library_tools.toolsmith-demo (demo, openai)"
    data = json.loads(out_json.read_text())
    assert data["totals"]["passed"] == 12 and len(data["cells"]) == 6
    [run] = runs(env)  # recorded like the page's runs
    assert run.id == data["run_id"] and run.status == "done" and run.answered == 12


def test_a_failing_cell_exits_1_and_names_the_assertion(tmp_path: Path, env: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "mixed.yaml"
    suite.write_text(FAILING)
    junit = tmp_path / "junit.xml"
    assert cli(tmp_path, env, str(suite), "--demo", "--wire", "anthropic", "--repeat", "1",
               "--junit", str(junit)) == 1
    out = capsys.readouterr().out
    assert "expects silence @ toolsmith-demo (demo, anthropic): expected no tool call, got 1: " \
           "get_current_weather" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["boston"].find("failure") is None
    failure = cases["expects silence"].find("failure")
    assert failure is not None and "expected no tool call" in failure.text
    # With a minimum of 0, a cell whose answers all failed still meets it: exit 0.
    assert cli(tmp_path, env, str(suite), "--demo", "--min-pass-rate", "0") == 0


def test_requests_that_fail_are_errors_in_junit(tmp_path: Path, env: dict[str, str]) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(FAILING)
    junit = tmp_path / "junit.xml"
    with EvalServer() as server:
        code = cli(tmp_path, env, str(suite), "--base-url", server.base_url, "--model",
                   "fault-500", "--model", "gpt-test", "--repeat", "1", "--min-pass-rate", "0",
                   "--junit", str(junit))
    assert code == 1  # errors never meet a minimum, even 0
    root = ET.parse(junit).getroot()
    errors = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert len(errors) == 2 and all("fault-500" in c.get("classname") for c in errors)
    assert "500" in errors[0].find("error").text
    assert root.find("testsuite").get("errors") == "2"


def test_keys_and_server_come_from_secrets_toml_and_never_reach_the_outputs(
        tmp_path: Path, env: dict[str, str], wire_server: WireServer) -> None:
    secret = "sk-cli-secret-0123456789"
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f'OPENAI_BASE_URL = "{wire_server.base_url}"\nOPENAI_API_KEY = "{secret}"\n'
        'OPENAI_MODEL = "gpt-4o-2024-08-06"\n')
    suite = tmp_path / "s.yaml"
    suite.write_text(FAILING)
    out_json = tmp_path / "o.json"
    cli(tmp_path, env, str(suite), "--repeat", "1", "--json", str(out_json))
    assert {r.headers["authorization"] for r in wire_server.chat_requests} == {
        f"Bearer {secret}"}
    assert {r.json["model"] for r in wire_server.chat_requests} == {"gpt-4o-2024-08-06"}
    assert secret not in out_json.read_text()
    db = (Path(env["TOOLSMITH_DATA_DIR"]) / "toolsmith.db").read_bytes()
    assert secret.encode() not in db


def test_the_environment_gives_the_key_when_there_is_no_secrets_file(
        tmp_path: Path, env: dict[str, str], wire_server: WireServer) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(FAILING)
    env |= {"OPENAI_BASE_URL": wire_server.base_url, "OPENAI_API_KEY": "sk-env-key-1234"}
    assert cli(tmp_path, env, str(suite), "--repeat", "1", "--model", "m1") == 1
    assert {r.headers["authorization"] for r in wire_server.chat_requests} == {
        "Bearer sk-env-key-1234"}


@pytest.mark.parametrize(("args", "message"), [
    (["missing.yaml", "--demo"], "no such suite file"),
    (["bad.yaml", "--demo"], "bad.yaml:3:5: unknown tool 'nope'"),
    (["good.yaml", "--demo", "--min-pass-rate", "80"], "between 0 and 1"),
    (["good.yaml", "--base-url", "ftp://x", "--wire", "openai"], "not an http(s) URL"),
    (["good.yaml", "--demo", "--repeat", "0"], "at least 1"),
    (["--demo"], "give a suite file, or --resume RUN_ID"),
    (["good.yaml", "--resume", "evr_x"], "not both"),
    (["--resume", "evr_nope"], "no run 'evr_nope'"),
])
def test_a_bad_suite_or_configuration_exits_2_with_the_reason(
        tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str],
        args: list[str], message: str) -> None:
    (tmp_path / "bad.yaml").write_text("tools:\n  - get_current_weather\n  - nope\ncases:\n"
                                       "  - {messages: hi, expect: {no_tool: true}}\n")
    (tmp_path / "good.yaml").write_text(FAILING)
    assert cli(tmp_path, env, *args) == 2
    assert message in capsys.readouterr().err
    assert not (Path(env["TOOLSMITH_DATA_DIR"]) / "toolsmith.db").exists() or not runs(env)


def test_the_module_entry_point_runs(tmp_path: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "toolsmith", "eval", str(ROOT / "evals" / "library_tools.yaml"),
         "--demo", "--repeat", "1"], cwd=ROOT, env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6/6 cells meet" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "toolsmith", "eval"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "suite" in bad.stderr


def test_a_run_killed_mid_way_is_marked_interrupted_and_resumed_with_only_the_missing_cells(
        tmp_path: Path, env: dict[str, str]) -> None:
    """A real process death: the CLI is killed (SIGKILL) while requests are in flight; a new
    process finds the run, marks it interrupted and sends only what was never answered."""
    import time

    suite = tmp_path / "s.yaml"
    suite.write_text(FAILING)
    with EvalServer(hold=True) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "toolsmith", "eval", str(suite), "--base-url",
             server.base_url, "--model", "gpt-test", "--repeat", "3", "--concurrency", "2"],
            cwd=ROOT, env={**env, "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            assert server.wait_for_posts(2, timeout=60)
        finally:
            process.kill()
            process.wait(timeout=30)
        server.release()
        records = EvalRecords(Store.open(
            f"sqlite:///{env['TOOLSMITH_DATA_DIR']}/toolsmith.db"))
        [run] = records.runs()
        assert run.status == "running" and run.answered == 0  # what the dead process left
        # Too soon: its heartbeat is fresh, so it may still be running somewhere.
        assert cli(tmp_path, env, "--resume", run.id) == 2
        assert records.mark_interrupted(set(), now=time.time() + 60) == 1
        run = records.run(run.id)
        assert run.status == "interrupted" and run.resumable
        sent = server.posts
        junit = tmp_path / "resumed.xml"
        assert cli(tmp_path, env, "--resume", run.id, "--junit", str(junit)) == 1
        assert server.posts - sent == 6  # 2 cases x 3 repeats, none twice
        assert "expected no tool call" in junit.read_text()  # the failing case, reported
    assert records.run(run.id).answered == 6
