"""Comparing two runs made before and after a schema edit, from what each run stored."""

from __future__ import annotations

from pathlib import Path

from core.config import DEMO_BASE_URL, DEMO_MODEL
from core.evals import runner
from core.evals.compare import compare
from core.evals.records import EvalRecords, Target
from core.evals.suite import parse_suite
from core.store import Store

SUITE = """
name: units
tools:
  - name: get_weather
    description: {description}
    parameters:
      type: object
      properties:
        location: {{type: string}}
        unit: {{type: string, enum: {units}}}
      required: [location]
cases:
  - name: boston
    messages: What's the weather like in Boston today?
    expect:
      tool: get_weather
      args: {{unit: fahrenheit}}
"""
DEMO = Target("openai", DEMO_BASE_URL, DEMO_MODEL, preset="demo")


def run_with(records: EvalRecords, description: str, units: str) -> str:
    suite, problems = parse_suite(SUITE.format(description=description, units=units), {})
    assert suite is not None, problems
    run_id = runner.start(records, suite, [DEMO], repeats=2, concurrency=2,
                          settings=runner.RunSettings())
    assert runner.execute(records, run_id, suite, [DEMO], repeats=2, concurrency=2,
                          settings=runner.RunSettings(), api_key=lambda t: "") == "done"
    return run_id


def test_compare_shows_the_tool_diff_the_pass_rate_change_and_the_calls(tmp_path: Path) -> None:
    records = EvalRecords(Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    before = run_with(records, "Weather in a place", "[celsius, fahrenheit]")
    after = run_with(records, "Current weather in a city", "[celsius]")
    result = compare(records, before, after)
    [change] = result.tools
    assert change.name == "get_weather" and change.kind == "changed"
    assert "-description: Weather in a place" in change.diff
    assert "+description: Current weather in a city" in change.diff
    assert "-      - fahrenheit" in change.diff
    [cell] = result.cells
    assert cell.case == "boston" and cell.target == DEMO.key
    assert (cell.before.pass_rate, cell.after.pass_rate, cell.delta) == (1.0, 0.0, -1.0)
    assert cell.calls_changed
    assert cell.calls_before == ['get_weather({"location": "Boston, MA", "unit": "fahrenheit"})']
    assert cell.calls_after == ['get_weather({"location": "Boston, MA"})']
    assert cell.after.results[0].failures == ["get_weather: argument 'unit' is missing"]
    assert result.suite_changed and result.settings_changed == []
    same = compare(records, before, before)
    assert same.tools == [] and same.cells[0].delta == 0.0 and not same.cells[0].calls_changed


def test_configured_servers_become_targets_one_per_wire_format() -> None:
    from core.evals.targets import configured_targets

    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_MODEL": "m-openai",
           "ANTHROPIC_API_KEY": "sk-ant-x"}
    found = {(t.wire, t.base_url, t.model) for t in configured_targets(env, {})}
    assert ("openai", "http://127.0.0.1:9/v1", "m-openai") in found
    assert ("anthropic", "https://api.anthropic.com", "claude-sonnet-4-5") in found
    assert configured_targets({}, {}) == []
    secrets = {"OPENAI_BASE_URL": "not a url"}
    assert [t for t in configured_targets({}, secrets) if t.wire == "openai"] == []
