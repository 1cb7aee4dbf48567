"""The index of Anthropic Messages SSE transcripts in tests/fixtures/anthropic.

Written by hand, apart from the transcripts, like tests/support/sse_fixtures.py (whose
`Expected` and `assert_matches` it reuses), so an accumulator bug cannot make a transcript
agree with itself. Each `*.sse` file is one HTTP-200 body of `POST /v1/messages` with
`"stream": true`, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.sse_fixtures import ARGS_SPACED, WEATHER, Expected

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "anthropic"

ANTHROPIC_FIXTURES: dict[str, Expected] = {
    "text_and_tool_use": Expected(
        "message_start (usage with cache fields), a text block with multibyte UTF-8, ping, "
        "then a tool_use block whose input arrives in input_json_delta fragments (the first "
        "one empty); stop_reason tool_use, cumulative output_tokens 57",
        content="I’ll check the weather in Boston — one moment.",
        calls=(("toolu_01A09q90qw90lq917835lq9", WEATHER, ARGS_SPACED),),
        finish_reason="tool_use", usage=(412, 57, 469, 0, None)),
    "parallel_tool_use": Expected(
        "two tool_use blocks (index 0 and 1), no text",
        calls=(("toolu_01Bos7onWeather00000000", WEATHER, ARGS_SPACED),
               ("toolu_01Tok7oWeather000000000", WEATHER,
                '{"location": "Tokyo, Japan", "unit": "celsius"}')),
        finish_reason="tool_use", usage=(431, 118, 549, 0, None)),
    "overloaded_error": Expected(
        "a 200 stream that starts answering, then sends event: error with overloaded_error",
        error="stream_error", error_says="Overloaded"),
    "max_tokens_mid_tool": Expected(
        "max_tokens reached inside a tool's JSON: the block stops, stop_reason max_tokens, "
        "message_stop; the call keeps the partial arguments (parsed_arguments() says why)",
        calls=(("toolu_01CutOffByMaxTokens0000", WEATHER, '{"location": "Bos'),),
        finish_reason="max_tokens", usage=(405, 16, 421, 0, None)),
    "thinking_and_text": Expected(
        "a thinking block (thinking_delta, then a signature_delta that is not shown), then text",
        reasoning="The user asks about Boston’s weather. I have no tool, so I say so.",
        content="I can’t check live weather here.", finish_reason="end_turn",
        usage=(36, 61, 97, 0, None)),
    "ping_events": Expected(
        "a ping before message_start and between all other events; a tool_use block with no "
        "input_json_delta at all (means {}); cache read and write tokens; two message_deltas "
        "whose cumulative output_tokens (9, then 11) must not be added; the second's "
        "stop_reason null keeps the first's; no newline after the last event",
        calls=(("toolu_01ServerTimeNoInput0000", "get_server_time", ""),),
        finish_reason="tool_use", usage=(12 + 2048 + 1536, 11, 12 + 2048 + 1536 + 11, 2048, None)),
    "server_tool_use": Expected(
        "a server_tool_use (web_search) with input_json_deltas and its web_search_tool_result: "
        "run by the server, so no call; then text",
        content="Boston is sunny today, around 22 °C.", finish_reason="end_turn",
        usage=(512, 40, 552, None, None)),
}


def load_anthropic_fixture(name: str) -> bytes:
    return (FIXTURE_DIR / f"{name}.sse").read_bytes()
