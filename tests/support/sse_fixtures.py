"""The index of SSE transcripts in tests/fixtures/sse: what each must accumulate to.

The table is written by hand, apart from the transcripts, so a decoder or accumulator bug
cannot make a fixture agree with itself. Each entry names the variation of
docs/architecture.md ("Wire details") it shows; tests/fixtures/sse/README.md is the prose
version for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.types import Message, ToolSpec, Usage

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "sse"

WEATHER = "get_current_weather"
# The tool the reference answers call, as the transcripts' requests sent it.
WEATHER_TOOL = ToolSpec(
    name=WEATHER,
    description="Get the current weather in a given location",
    parameters={"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]},
)
# The arguments of the reference answer, compact as OpenAI streams them.
ARGS = '{"location":"Boston, MA","unit":"celsius"}'
# The same arguments as most other models format them.
ARGS_SPACED = '{"location": "Boston, MA", "unit": "celsius"}'

# Usage fields in Usage order: prompt, completion, total, cached, reasoning.
UsageRow = tuple[int | None, int | None, int | None, int | None, int | None]
REFERENCE_USAGE: UsageRow = (80, 23, 103, 0, 0)


@dataclass(frozen=True)
class Expected:
    """The final message a transcript yields, or the kind of core error it must raise."""

    about: str
    calls: tuple[tuple[str, str, str], ...] = ()  # (id, name, raw arguments)
    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = "tool_calls"
    usage: UsageRow | None = None
    error: str | None = None  # core.wire.errors kind
    error_says: str = ""  # words the error text must contain


def _call(call_id: str, arguments: str = ARGS, name: str = WEATHER) -> tuple[str, str, str]:
    return (call_id, name, arguments)


FIXTURES: dict[str, Expected] = {
    "standard_tool_call": Expected(
        "role chunk, first delta with index/id/type/name/arguments '', fragments, finish chunk, "
        "usage chunk with empty choices, [DONE] (call_… id)",
        calls=(_call("call_4yKljCtGceYj1heJY8G9h3te"),), usage=REFERENCE_USAGE),
    "parallel_tool_calls": Expected(
        "two calls, index 0 and 1",
        calls=(_call("call_Rk3pVfH2l1uS8bOqTzW4xYcE", ARGS_SPACED),
               _call("call_9mNq2LdXe7GhJ0aB5sTuVwYz",
                     '{"location": "Tokyo, Japan", "unit": "celsius"}')),
        usage=(82, 56, 138, 0, 0)),
    "comments_and_event_lines": Expected(
        "OpenRouter ': OPENROUTER PROCESSING' keep-alives, a ': ping' comment, event:/id:/retry: "
        "lines; a text answer",
        content="The weather in Boston is 22 °C and sunny.", finish_reason="stop",
        usage=(14, 12, 26, 0, 0)),
    "data_without_space": Expected(
        "'data:{…}' with no space after the colon",
        calls=(_call("call_Zp8QwErTyUiOp1As2Df3Gh4J"),), usage=REFERENCE_USAGE),
    "crlf_line_endings": Expected(
        "every line ends in CRLF",
        calls=(_call("call_Mn7Bv6Cx5Zl4Kj3Hg2Fd1Sa0Q"),), usage=REFERENCE_USAGE),
    "no_trailing_blank_line": Expected(
        "the stream ends 'data: [DONE]' with no newline at all",
        content="Boston is 22 °C.", finish_reason="stop", usage=(9, 5, 14, None, None)),
    "content_filter_first_chunk": Expected(
        "Azure: first chunk has empty choices and prompt_filter_results; unknown fields "
        "(content_filter_results, obfuscation) everywhere",
        calls=(_call("call_Aq1Ws2Ed3Rf4Tg5Yh6Uj7Ik8O"),), usage=REFERENCE_USAGE),
    "whole_call_one_delta": Expected(
        "Ollama: the whole call, arguments included, in one delta",
        calls=(_call("call_k2ib4q3f"),), usage=(163, 22, 185, None, None)),
    "arguments_as_object": Expected(
        "arguments sent as a JSON object instead of a string",
        calls=(_call("call_0f9e8d7c6b5a", ARGS_SPACED),), usage=(150, 20, 170, None, None)),
    "no_argument_chunk": Expected(
        "a tool without parameters: no 'arguments' key ever (means {})",
        calls=(_call("call_Tm0Ck1Lq2Wx3Ev4Br5Ny6Ui7O", "", "get_server_time"),),
        usage=(51, 11, 62, None, None)),
    "missing_index": Expected(
        "two calls whose deltas carry no 'index'; the id only on each call's first delta",
        calls=(_call("call_gm0a1b2c3d", '{"location":"Boston, MA"}'),
               _call("call_gm4e5f6g7h", '{"location":"Tokyo, Japan"}'))),
    "id_repeated_every_delta": Expected(
        "id, type and name repeated on every delta (never concatenate them)",
        calls=(_call("365174485"),)),
    "id_empty_after_first": Expected(
        "id '' and name null on every delta after the first (DeepSeek)",
        calls=(_call("call_0_5c2e8a7f-9b1d-4e3a-8f6c-2d4b7a9e1c3f"),),
        usage=(181, 22, 203, 128, None)),
    "finish_stop_with_tools": Expected(
        "finish_reason 'stop' although a tool call was sent",
        calls=(_call("call_St0pWithT00lsXyZ12345"),), finish_reason="stop",
        usage=REFERENCE_USAGE),
    "no_finish_reason": Expected(
        "finish_reason null on every chunk, then [DONE]",
        calls=(_call("call_NoF1n1sh00000000000000"),), finish_reason=None,
        usage=REFERENCE_USAGE),
    "usage_every_chunk": Expected(
        "usage on every chunk, growing; the last one counts (chatcmpl-tool-… id)",
        calls=(_call("chatcmpl-tool-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"),),
        usage=(74, 14, 88, None, None)),
    "usage_on_final_content_chunk": Expected(
        "Gemini: usage on the last content chunk, which also carries finish_reason",
        content="It's 22 °C and sunny in Boston.", finish_reason="stop",
        usage=(31, 12, 43, None, None)),
    "usage_vendor_key": Expected(
        "Groq: usage only under x_groq.usage on the finish chunk",
        calls=(_call("call_q7vz"),), usage=(312, 28, 340, None, None)),
    "no_usage": Expected(
        "no usage anywhere",
        calls=(_call("call_NoUsage0000000000000000"),)),
    "reasoning_content": Expected(
        "DeepSeek: delta.reasoning_content, then content; cache and reasoning token fields",
        reasoning="The user asks about Boston’s weather. I have no tool, so I say so.",
        content="I can’t check live weather here.", finish_reason="stop",
        usage=(18, 60, 78, 0, 45)),
    "reasoning_field": Expected(
        "OpenRouter: delta.reasoning (with reasoning_details), then a tool call",
        reasoning="Need the weather for Boston; call the tool.",
        calls=(_call("call_5e8b1f0c3a7d4b2e9f6a1c0d"),), usage=(201, 44, 245, None, 17)),
    "error_in_stream_wrapped": Expected(
        "HTTP-200 stream: a content chunk, then data: {\"error\": {…}}, then [DONE]",
        error="stream_error", error_says="The server had an error while processing"),
    "error_in_stream_bare": Expected(
        "vLLM: a bare {\"object\": \"error\", \"message\": …} chunk, then [DONE]",
        error="stream_error", error_says="maximum context length is 8192 tokens"),
    "not_json_chunk": Expected(
        "a proxy's plain-text line inside the stream",
        error="malformed", error_says="upstream connect error"),
    "id_chatcmpl_tool": Expected(
        "vLLM: chatcmpl-tool-… id; first delta has a name and no arguments key",
        calls=(_call("chatcmpl-tool-9f4c2b7e1a8d4c6b9e3f0a5d7c1b2e8f", ARGS_SPACED),),
        usage=(300, 27, 327, None, None)),
    "id_nine_chars": Expected(
        "Mistral: 9-character id; call, finish_reason and usage in one chunk",
        calls=(_call("D681PevKs", ARGS_SPACED),), usage=(94, 31, 125, None, None)),
    "id_toolu": Expected(
        "Anthropic's OpenAI-compatible endpoint: toolu_… id; usage on the finish chunk",
        calls=(_call("toolu_01A09q90qw90lq917835lq9", ARGS_SPACED),),
        usage=(412, 57, 469, None, None)),
    "text_and_tool_calls": Expected(
        "text, then a tool call; multibyte UTF-8 and a raw U+2028 inside a JSON string",
        content="I’ll check the weather in Boston — one moment.\u2028☀️",
        calls=(_call("call_Tt1Uu2Vv3Ww4Xx5Yy6Zz7Aa8B"),), usage=(80, 41, 121, 0, 0)),
    "bad_arguments": Expected(
        "a complete stream whose tool arguments are not JSON (the model's fault): the call "
        "is kept raw and parsed_arguments() reports why",
        calls=(_call("call_Ba0Dd1Ar2Gs3Xx4Yy5Zz6Ww7",
                     '{"location": "Boston, MA", "unit": celsius}'),),
        usage=REFERENCE_USAGE),
}


def fixture_path(name: str) -> Path:
    return FIXTURE_DIR / f"{name}.sse"


def load_fixture(name: str) -> bytes:
    """The transcript's exact bytes (CRLF and missing final newlines preserved)."""
    return fixture_path(name).read_bytes()


def usage_row(usage: Usage | None) -> UsageRow | None:
    if usage is None:
        return None
    return (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens,
            usage.cached_tokens, usage.reasoning_tokens)


def assert_matches(message: Message, expected: Expected) -> None:
    """The whole final message, field by field, so a failure names the field that differs."""
    assert message.role == "assistant"
    assert message.content == expected.content
    assert message.reasoning == expected.reasoning
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == list(expected.calls)
    assert message.finish_reason == expected.finish_reason
    assert usage_row(message.usage) == expected.usage
