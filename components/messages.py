"""Render the conversation: user and assistant bubbles, tool-call cards, tool results, usage."""

from __future__ import annotations

import base64

import streamlit as st

from components import inspector, message_actions, state, tool_call_card
from components.evals import save_case
from components.untrusted import assistant_markdown, code, render_assistant, text
from core.types import Exchange, Message, Usage
from core.wire import find as find_format

# Material icons ship with Streamlit: an emoji is an empty box without an emoji font.
AVATARS = {"user": ":material/person:", "assistant": ":material/smart_toy:",
           "tool": ":material/build:"}


ENDED_EARLY = {"stopped": "Stopped by you", "interrupted": "Interrupted (the tab was closed)"}


def usage_line(usage: Usage | None, exchange: Exchange | None) -> str:
    parts: list[str] = []
    if usage is not None:
        parts.append(f"prompt {_n(usage.prompt_tokens)}")
        if usage.cached_tokens is not None:
            parts.append(f"cached {usage.cached_tokens}")
        if usage.cache_write_tokens:
            parts.append(f"cache write {usage.cache_write_tokens}")
        parts.append(f"completion {_n(usage.completion_tokens)}")
        if usage.reasoning_tokens is not None:
            parts.append(f"reasoning {usage.reasoning_tokens}")
        parts.append(f"total {_n(usage.total)} tokens")
        if usage.estimated:
            parts.append("(estimated)")
    else:
        parts.append("usage not reported")
    if exchange is not None:
        if exchange.latency_s is not None:
            parts.append(f"latency {exchange.latency_s:.2f} s")
        if exchange.ttft_s is not None:
            parts.append(f"first token {exchange.ttft_s * 1000:.0f} ms")
        if len(exchange.attempts) > 1:
            parts.append(f"succeeded on attempt {len(exchange.attempts)}")
    return " · ".join(parts)


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


def render_message(message: Message, exchange: Exchange | None, *,
                   actions: bool = False, last: bool = False) -> None:
    """One message; `actions`: with its Edit / Re-run / Branch / Delete buttons."""
    if message.role == "tool":
        with st.chat_message("tool", avatar=AVATARS["tool"]):
            st.caption(f"Result of {code(message.name or '?')} for call "
                       f"{code(message.tool_call_id)}"
                       f"{' (error)' if message.is_error else ''}")
            if _fold(message.id, message.content):
                st.code(_preview(message.content), language=None)
            else:
                st.code(message.content or " ", language=None)
            for image in message.images:  # sent with the result (formats that take images)
                st.image(base64.b64decode(image.data), caption=image.mime_type, width=240)
            if exchange is not None:  # the MCP run that produced this result
                inspect_button(st.container(horizontal_alignment="right"), exchange.id)
        return
    with st.chat_message(message.role, avatar=AVATARS.get(message.role)):
        if message.role == "assistant":
            if message.reasoning:
                with st.expander("Reasoning", icon=":material/psychology:"):
                    st.markdown(assistant_markdown(message.reasoning))
            if message.server_activity:
                with st.expander(f"Tools the server ran itself ({len(message.server_activity)})",
                                 icon=":material/satellite_alt:"):
                    st.caption("Run by the server (hosted tools): nothing for you to answer.")
                    for line in message.server_activity:
                        st.code(line, language=None, wrap_lines=True)
            if message.content:
                _content(message)
            fmt = find_format(exchange.wire) if exchange else None
            sent = fmt.sent_tool_schemas(exchange.request_body) if fmt and exchange else None
            for call in message.tool_calls:
                tool_call_card.render(call, sent=sent)
            if exchange is not None and exchange.error_kind == "trailer_lost" and exchange.error:
                # The answer is whole; this says what was lost.
                st.caption(f":material/warning: {text(exchange.error)}")
            finish = f" · finish: {text(message.finish_reason)}" if message.finish_reason else ""
            if message.finish_reason in ENDED_EARLY:
                st.caption(f"{ENDED_EARLY[message.finish_reason]} before the answer was "
                           "complete; this is what had arrived.")
            line, button = st.columns([12, 1], vertical_alignment="center")
            line.caption(usage_line(message.usage, exchange) + finish)
            if exchange is not None:
                inspect_button(button, exchange.id)
            if actions:
                message_actions.buttons(message, last=last)
        elif message.role == "user" and state.chat().editing == message.id:
            message_actions.edit_box(message)
        else:
            # The user's Markdown; imported sessions are someone else's: no remote images.
            _content(message)
            if message.role == "user":
                save_case.chat_button(message)
                if actions:
                    message_actions.buttons(message, last=last)


# Longer messages and results are folded (a 20,000-character message is a wall of text):
# the first part shows, with Expand and Copy.
FOLD_AT = 3_000
PREVIEW = 1_200


def _fold(message_id: str, content: str) -> bool:
    """True when this text is shown folded; draws the Expand/Fold and Copy controls."""
    if len(content) <= FOLD_AT:
        return False
    folded = message_id not in state.chat().expanded
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    if folded:
        row.caption(f"Showing the first {PREVIEW:,} of {len(content):,} characters.")
    row.button("Expand" if folded else "Fold", key=f"chat.fold.{message_id}", type="tertiary",
               icon=":material/unfold_more:" if folded else ":material/unfold_less:",
               on_click=state.toggle_expanded, args=(message_id,))
    if folded:
        with row.popover("Copy", icon=":material/content_copy:"):
            st.caption("The whole text (the button at its top right copies it).")
            st.code(content, language=None, wrap_lines=True)
    return folded


def _preview(content: str) -> str:
    cut = content[:PREVIEW]
    space = max(cut.rfind("\n"), cut.rfind(" "))
    return (cut[:space] if space > PREVIEW // 2 else cut) + " …"


def _content(message: Message) -> None:
    if _fold(message.id, message.content):
        render_assistant(st.container(), _preview(message.content), message.id)
    else:
        render_assistant(st.container(), message.content, message.id)


def render_system_prompt(prompt: str) -> None:
    """The system prompt heads the conversation: it is sent first with every request, so a
    reader of the chat should see it there, not only in the sidebar."""
    with st.container(key="chat.system_prompt"), \
            st.chat_message("system", avatar=":material/settings:"):
        st.caption("System prompt (sent first with every request; change it in the sidebar)")
        render_assistant(st.container(), prompt, "system-prompt")


def inspect_button(where: st.delta_generator.DeltaGenerator, exchange_id: str) -> None:
    where.button(":material/search:", key=f"chat.inspect.{exchange_id}",
                 help="Inspect this request",
                 on_click=state.toggle_inspect, args=(exchange_id,))


def render_history(messages: list[Message], exchanges: dict[str, Exchange], shown: int) -> bool:
    """Render the last `shown` messages; older ones stay a click away. True if some are hidden."""
    hidden = max(0, len(messages) - shown)
    inspected = state.inspected()
    last = len(messages) - 1
    for position, message in enumerate(messages[hidden:], start=hidden):
        exchange = exchanges.get(message.exchange_id or "")
        render_message(message, exchange, actions=True, last=position == last)
        if exchange is not None and exchange.id == inspected:
            inspector.render(exchange)
    return hidden > 0
