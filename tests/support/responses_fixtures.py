"""The index of OpenAI Responses stream transcripts in tests/fixtures/responses.

Written by hand, apart from the transcripts, so an accumulator bug cannot make a fixture agree
with itself. Usage rows are (input, cached, output, reasoning, total, cache write).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "responses"
WEATHER = "get_current_weather"


@dataclass(frozen=True)
class RspExpected:
    about: str
    calls: tuple[tuple[str, str, str], ...] = ()  # (call_id, name, raw arguments)
    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = "completed"
    usage: tuple[int | None, ...] | None = None
    error: str | None = None  # core.wire.errors kind
    error_says: str = ""
    reasoning_items: int = 0  # reasoning items kept to be sent back


RESPONSES_FIXTURES: dict[str, RspExpected] = {
    "text_and_call": RspExpected(
        "a message item (text in 4 deltas) then a function_call whose arguments arrive in 4 "
        "deltas keyed by item id; sequence numbers; usage with cached tokens",
        content="Let me look that up for Boston.",
        calls=(("call_Wq3xBoston01", WEATHER, '{"location":"Boston, MA","unit":"celsius"}'),),
        usage=(80, 16, 23, 0, 103, None)),
    "parallel_calls": RspExpected(
        "two function_call items announced first, their argument deltas interleaved; the "
        "second call's deltas carry only item_id (no output_index)",
        calls=(("call_P1boston", WEATHER, '{"location": "Boston, MA", "unit": "fahrenheit"}'),
               ("call_P2tokyo", WEATHER, '{"location": "Tokyo, Japan", "unit": "celsius"}')),
        usage=(95, 0, 52, 0, 147, None)),
    "reasoning_summary": RspExpected(
        "a reasoning item with two summary parts in 17-character deltas and encrypted_content "
        "on its done item, then a call",
        reasoning=("**Finding the weather**\n\nThe user wants Boston's weather; the tool needs a "
                   "location.\n\n**Choosing units**\n\nBoston is in the US, so Fahrenheit fits."),
        calls=(("call_R2reason", WEATHER, '{"location":"Boston, MA","unit":"fahrenheit"}'),),
        usage=(120, 64, 210, 176, 330, None), reasoning_items=1),
    "incomplete": RspExpected(
        "text cut by max_output_tokens: response.incomplete with incomplete_details.reason",
        content="Boston today: partly cloudy, with a high",
        finish_reason="incomplete:max_output_tokens", usage=(30, 0, 12, 0, 42, None)),
    "error_event": RspExpected(
        "an error event (code and message at the top level) inside a 200 stream, then "
        "response.failed", finish_reason=None, error="stream_error",
        error_says="The model produced invalid content."),
    "no_sequence_number": RspExpected(
        "no sequence_number; every data: line before its event: line; CRLF line ends; a "
        "hosted web_search_call item (skipped); arguments only in arguments.done (no delta); "
        "usage with cache_write_tokens",
        calls=(("call_N6paris", WEATHER, '{"location": "Paris, France"}'),),
        usage=(64, 0, 18, 0, 82, 40)),
}


def load_responses_fixture(name: str) -> bytes:
    return (FIXTURE_DIR / f"{name}.sse").read_bytes()
