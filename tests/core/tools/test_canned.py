"""Canned results and the result box's example follow the call (core/tools/canned.py)."""

import json

from core.tools.canned import fit, fitted_results, placeholder
from core.types import ToolCall

WEATHER = {"ok": '{"location": "Boston, MA", "temperature": 22, "unit": "celsius", '
                 '"conditions": "sunny"}',
           "unknown place": '{"error": "location not found"}'}


def weather(arguments: dict) -> ToolCall:
    return ToolCall(id="call_1", name="get_current_weather", arguments=json.dumps(arguments))


def test_a_canned_result_takes_the_calls_place_and_unit() -> None:
    fitted = fitted_results(WEATHER, weather({"location": "Paris, France", "unit": "fahrenheit"}))
    ok = json.loads(fitted["ok"])
    assert ok == {"location": "Paris, France", "temperature": 72, "unit": "fahrenheit",
                  "conditions": "sunny"}
    assert fitted["unknown place"] == WEATHER["unknown place"]


def test_fields_the_call_does_not_name_keep_the_example() -> None:
    ok = json.loads(fit(WEATHER["ok"], weather({"location": "Oslo"})))
    assert ok == {"location": "Oslo", "temperature": 22, "unit": "celsius",
                  "conditions": "sunny"}


def test_a_number_the_call_gives_is_not_the_result() -> None:
    call = ToolCall(id="c", name="convert_units",
                    arguments='{"value": 10, "from_unit": "km", "to_unit": "mi"}')
    assert fit('{"value": 6.2137, "unit": "mi"}', call) == '{"value": 6.2137, "unit": "mi"}'


def test_text_results_and_unreadable_arguments_are_left_as_written() -> None:
    assert fit("22 degrees", weather({"location": "Oslo"})) == "22 degrees"
    broken = ToolCall(id="c", name="get_current_weather", arguments='{"location": "Os')
    assert fit(WEATHER["ok"], broken) == WEATHER["ok"]


def test_placeholder_follows_the_tool() -> None:
    shown = placeholder(WEATHER, weather({"location": "Boston, MA", "unit": "fahrenheit"}))
    assert shown.startswith("e.g. ") and "Boston, MA" in shown and "fahrenheit" in shown
    call = ToolCall(id="c", name="lookup_order", arguments='{"order": "A-17"}')
    shown = placeholder({}, call)
    assert "lookup_order" in shown and "A-17" in shown and "temperature" not in shown
