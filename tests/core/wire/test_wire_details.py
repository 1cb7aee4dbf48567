"""Wire details seen in real recordings (docs/architecture.md, "Wire details"): server-side tool
activity is shown and never becomes a call to answer; reasoning sent as typed thinking parts
or as reasoning_details is shown as reasoning. Every transcript here is hand-written."""

from __future__ import annotations

import json
from typing import Any

from core.wire import anthropic_messages as anthropic
from core.wire import openai_chat
from core.wire import openai_responses as rsp


def feed(acc: Any, events: list[dict[str, Any]]) -> Any:
    for event in events:
        acc.add(event)
    return acc.message()


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_anthropic_server_tool_use_is_activity_not_a_call() -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 10}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "server_tool_use", "id": "srvtoolu_1",
                           "name": "web_search", "input": {}}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": '{"query": "Bos'}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": 'ton weather"}'}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1",
                           "content": [{"type": "web_search_result", "title": "Boston"}]}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2,
         "content_block": {"type": "mcp_tool_use", "id": "mcptoolu_2", "name": "lookup",
                           "server_name": "docs", "input": {"q": "x"}}},
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3, "content_block": {"type": "text"}},
        {"type": "content_block_delta", "index": 3,
         "delta": {"type": "text_delta", "text": "It is 22 degrees."}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
         "usage": {"output_tokens": 9}},
        {"type": "message_stop"}]
    message = feed(anthropic.StreamAccumulator(), events)
    assert message.tool_calls == []
    assert message.content == "It is 22 degrees."
    assert message.server_activity == [
        'server ran web_search: {"query": "Boston weather"}',
        'web_search_tool_result: [{"type":"web_search_result","title":"Boston"}]',
        'server ran lookup: {"q": "x"}']
    whole = anthropic.parse_response({"type": "message", "content": [
        {"type": "server_tool_use", "id": "s1", "name": "code_execution",
         "input": {"code": "1+1"}},
        {"type": "code_execution_tool_result", "tool_use_id": "s1", "content": {"stdout": "2"}},
        {"type": "text", "text": "2"}], "stop_reason": "end_turn"})
    assert whole.tool_calls == [] and whole.content == "2"
    assert whole.server_activity == ['server ran code_execution: {"code":"1+1"}',
                                     'code_execution_tool_result: {"stdout":"2"}']


def test_a_client_tool_use_after_a_server_one_is_still_a_call() -> None:
    events = [
        {"type": "content_block_start", "index": 0, "content_block": {
            "type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": "{}"}},
        {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": "get_current_weather", "input": {}}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "input_json_delta", "partial_json": '{"location": "Boston, MA"}'}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}},
        {"type": "message_stop"}]
    message = feed(anthropic.StreamAccumulator(), events)
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("toolu_1", "get_current_weather", '{"location": "Boston, MA"}')]


def test_mistral_thinking_parts_are_reasoning() -> None:
    def thinking(text: str) -> dict[str, Any]:
        return chunk({"content": [{"type": "thinking", "thinking": [
            {"type": "text", "text": text}], "closed": True}]})

    message = feed(openai_chat.StreamAccumulator(), [
        chunk({"role": "assistant", "content": ""}), thinking("17 times 23"),
        thinking(" is 391."), chunk({"content": "391"}), chunk({}, "stop")])
    assert (message.reasoning, message.content) == ("17 times 23 is 391.", "391")
    whole = openai_chat.parse_response({"choices": [{"message": {"role": "assistant",
        "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Hm."}]},
                    {"type": "text", "text": "391"}]}, "finish_reason": "stop"}]})
    assert (whole.reasoning, whole.content) == ("Hm.", "391")


def test_reasoning_details_are_reasoning_and_never_doubled() -> None:
    def details(text: str, **extra: Any) -> dict[str, Any]:
        return chunk({"content": "", "reasoning_details": [
            {"type": "reasoning.text", "text": text, "index": 0}], **extra})

    only = feed(openai_chat.StreamAccumulator(), [
        details("15 * 27"), details(" = 405"), chunk({"content": "405"}), chunk({}, "stop")])
    assert (only.reasoning, only.content) == ("15 * 27 = 405", "405")
    # OpenRouter sends the same text as `reasoning` and in `reasoning_details`: once only.
    both = feed(openai_chat.StreamAccumulator(), [
        details("Think.", reasoning="Think."), chunk({"content": "Done"}), chunk({}, "stop")])
    assert both.reasoning == "Think."


def test_responses_hosted_tools_are_activity() -> None:
    message = rsp.parse_response({"status": "completed", "output": [
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": "Boston weather"}},
        {"type": "message", "content": [{"type": "output_text", "text": "22 degrees."}]}]})
    assert message.tool_calls == []
    assert message.server_activity == [
        "web_search_call: " + json.dumps({"action": {"type": "search",
                                                      "query": "Boston weather"}},
                                         separators=(",", ":"))]
