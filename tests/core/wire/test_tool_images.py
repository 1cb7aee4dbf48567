"""Images a tool returned go back with its result in the formats that take them: Anthropic
tool_result content blocks, Responses function_call_output content; Chat Completions sends
the text (naming the image) only. Kept by the store and by session export/import."""

from __future__ import annotations

import base64

from core.conversation import Conversation
from core.demo.images import png_for
from core.session_io import dumps, export_session, import_session
from core.store import Store
from core.types import ChatSettings, Message, ToolCall, ToolImage
from core.wire import wire_format

PNG = base64.b64encode(png_for("fox")).decode()
HISTORY = [
    Message(role="user", content="Draw a fox"),
    Message(role="assistant", tool_calls=[ToolCall("call_1", "generate_image",
                                                   '{"prompt": "fox"}')]),
    Message(role="tool", tool_call_id="call_1", name="generate_image",
            content="[image: image/png, 1 bytes]", images=[ToolImage("image/png", PNG)]),
]
SETTINGS = ChatSettings(model="m")


def test_anthropic_sends_an_image_block_in_the_tool_result():
    body = wire_format("anthropic").build_request(HISTORY, [], SETTINGS)
    (result,) = body["messages"][-1]["content"]
    assert result["type"] == "tool_result"
    text, image = result["content"]
    assert text == {"type": "text", "text": "[image: image/png, 1 bytes]"}
    assert image == {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                 "data": PNG}}


def test_responses_sends_input_image_in_function_call_output():
    body = wire_format("responses").build_request(HISTORY, [], SETTINGS)
    (output,) = [i for i in body["input"] if i.get("type") == "function_call_output"]
    assert output["output"] == [
        {"type": "input_text", "text": "[image: image/png, 1 bytes]"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]


def test_chat_completions_sends_the_text_only():
    body = wire_format("openai").build_request(HISTORY, [], SETTINGS)
    tool = body["messages"][-1]
    assert tool == {"role": "tool", "tool_call_id": "call_1",
                    "content": "[image: image/png, 1 bytes]"}


def test_a_result_without_images_is_unchanged():
    plain = [*HISTORY[:2], Message(role="tool", tool_call_id="call_1", content="ok")]
    body = wire_format("anthropic").build_request(plain, [], SETTINGS)
    assert body["messages"][-1]["content"][0]["content"] == "ok"


def test_store_and_export_keep_the_images(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    conversation = Conversation(messages=[*HISTORY])
    store.record(conversation, provider="demo", model="m")
    assert store.load(conversation.id).messages[-1].images == [ToolImage("image/png", PNG)]
    copy = store.load(import_session(store, dumps(export_session(store, conversation.id))
                                     .encode()))
    assert copy.messages[-1].images == [ToolImage("image/png", PNG)]
