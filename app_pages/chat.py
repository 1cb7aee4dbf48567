"""Chat: ask, see every tool call, answer it by hand, and let the model continue."""

import json
from dataclasses import replace

import streamlit as st

from components import (
    history_sync,
    inspector,
    live_turn,
    mcp_run,
    message_actions,
    messages,
    simulate,
    state,
    tool_library,
    tool_results,
)
from components.shell import guarded
from components.untrusted import code, text
from core.codegen import RequestSpec
from core.config import Endpoint
from core.conversation import (
    awaits_model,
    missing_results,
    pending_tool_calls,
    tool_result_messages,
)
from core.tools.schemas import set_problems
from core.turn import TurnResult
from core.types import ChatSettings, Exchange, Message, ToolCall, ToolSpec
from core.wire import formats


def page() -> None:
    history_sync.restore_from_url()
    chat = state.chat()
    conversation = chat.conversation
    tools = state.enabled_tools()
    endpoint = state.endpoint()
    settings = replace(state.settings(), tool_choice=state.tool_choice(tools),
                       parallel_tool_calls=state.parallel_tool_calls())

    head, button = st.columns([5, 1], vertical_alignment="bottom")
    head.title("Chat")
    button.button("New chat", key="chat.new", on_click=state.new_chat, icon=":material/add:")
    history_sync.render_fork_notice()
    if endpoint.is_demo:
        st.info("**Offline demo model** — the answers come from a small model built into "
                "Toolsmith (no API key, no network). It calls tools and uses your results, but "
                "knows nothing else. Set OPENAI_API_KEY or pick a server in the sidebar for a real "
                "model.", icon=":material/science:")
    names = ", ".join(code(t.name) for t in tools) or "none"
    st.caption(f"Model {code(settings.model or '?')} · tools sent: {names}")
    with st.container(key="chat.tool_choice"):
        tool_library.render_request_controls([t.name for t in tools])
    # One element whether or not the note is shown: a note appearing above the result boxes
    # (a base URL changed) shifted them, and the browser redrew them empty, dropping what was
    # being typed there.
    with st.container():
        _recorded_note(chat.recorded, endpoint, settings)
    edited = state.take_message_action()  # Edit, Delete, Re-run or Branch on a message
    run_after_edit = bool(edited) and message_actions.apply(edited)
    if edited:
        history_sync.save(settings, tools)
        conversation = chat.conversation  # a branch is a new conversation
    message_actions.branch_note()
    notice = state.take_notice()
    if notice:
        (st.warning if notice[0] == "warning" else st.info)(notice[1])
    problem = endpoint.problem() or next(
        (f"Not sent: {p.message}. Switch some off on the Tools page." for p in set_problems(tools)),
        None)

    # An action is taken only once carried out, and each step that carries one out sets the
    # next action before anything else can end the run (ChatState.request says why): a run
    # can end at any session-state access when a click or a typing pause arrives.
    action = chat.pending_action
    if action == "regenerate" and conversation.messages \
            and conversation.messages[-1].role == "assistant":
        chat.request("retry")  # the answer is dropped now; an interrupted run still asks again
        dropped = conversation.messages.pop()  # its exchange stays among the session's records
        state.clear_results(dropped.tool_calls, widgets=True)
        history_sync.truncate(len(conversation.messages))
        action = "run"
    elif action == "regenerate" or run_after_edit:  # a quick second Retry finds it dropped
        action = "run"
    if settings.system_prompt.strip():
        messages.render_system_prompt(settings.system_prompt)
    hidden = messages.render_history(conversation.messages, conversation.exchanges,
                                      chat.shown_messages)
    if hidden:
        st.button("Show earlier messages", key="chat.more", on_click=state.show_more)
    pending = pending_tool_calls(conversation.messages)
    if pending and mcp_run.handle(conversation, pending, settings, tools):
        action = "results"  # every call ran on its MCP server automatically: send them
    if pending:
        simulate.handle(conversation, pending, endpoint, settings)

    if action == "results" and pending:
        results = state.typed_results(pending)
        missing = missing_results(pending, results)
        if missing:
            chat.take_action()  # this click is answered: a later rerun must not send them
            st.error("Type a result for every call before sending (missing: "
                     + ", ".join(f"{code(c.name)} {code(c.id)}" for c in missing) + ").")
        else:
            answered = tool_result_messages(pending, results, state.typed_errors(pending))
            mcp_run.link_results(conversation, answered)
            conversation.messages.extend(answered)
            chat.request("retry")  # a rerun before the turn starts must still start it
            history_sync.save(settings, tools)
            for message in answered:
                messages.render_message(message, None)
            state.clear_results(pending)
            pending = []
            action = "run"
    if not pending:
        chat.held_prompt = None
    elif chat.held_prompt:
        st.caption(f"Your message “{text(chat.held_prompt[:200])}” was not sent yet: the model is "
                   "waiting for the tool results above. It is kept in the message box; send "
                   "it once the results are in.")
    prompt = st.chat_input(
        "Answer the pending tool calls first (or start a New chat)" if pending
        else "Ask something that needs a tool…",
        key="chat.input", disabled=bool(pending), on_submit=state.take_prompt,
    )
    if prompt is not None and not prompt.strip():
        prompt = None  # a whitespace-only message is not sent
    if prompt and not pending:
        conversation.messages.append(Message(role="user", content=prompt))
        chat.request("retry")  # as after results: the message is answered even if interrupted
        history_sync.save(settings, tools)
        messages.render_message(conversation.messages[-1], None)
        action = "run"
    if action in ("run", "retry") and awaits_model(conversation.messages) and not problem:
        chat.error = None
        writer = history_sync.writer(settings, tools)

        def keep(result: TurnResult) -> None:
            state.keep_turn(chat, result)
            writer.write(chat)

        # The action is let go once the request is under way: a rerun before that (a result
        # box's typing pause arriving after the click) must not leave the turn unanswered.
        live_turn.run(endpoint, conversation.messages, tools, settings, keep,
                      started=chat.take_action)

    if problem:
        st.warning(text(problem), icon=":material/settings:")
    if chat.error:
        _error_box(chat.error, conversation.exchanges.get(chat.error.exchange_id))
    elif awaits_model(conversation.messages):
        st.info("The model has not answered the last message yet.", icon=":material/hourglass_top:")
        st.button("Send to model", key="chat.resend", on_click=chat.request, args=("retry",))
    if pending:
        tool_results.render(pending, {t.name: t.results for t in state.library_specs()})
    if st.session_state.get("chat.show_code"):
        _next_request_code(endpoint, _next_messages(conversation.messages, pending), tools,
                           settings, after_results=bool(pending))
    st.toggle("Show the code for the next request", key="chat.show_code",
              help="curl, Python and JavaScript for the request as it would be sent now.")
    chat.take_action()  # drawn to the end: an action that did not apply is done with


def _recorded_note(recorded: state.RecordedServer | None, endpoint: Endpoint,
                   settings: ChatSettings) -> None:
    """Say when a reopened session was recorded with another model; one click goes back."""
    if recorded is None or not recorded.model \
            or not recorded.differs_from(endpoint, settings.model):
        return
    line = st.container(horizontal=True, vertical_alignment="center")
    line.caption(f"This session was recorded with {code(recorded.model)} "
                 f"({text(recorded.provider)}); it continues with the model chosen in the "
                 "sidebar.")
    if recorded.can_return:
        line.button(f"Use {recorded.model} again", key="chat.use_recorded",
                    on_click=state.use_recorded_server, icon=":material/history:")


def _error_box(error: state.TurnError, exchange: Exchange | None) -> None:
    with st.chat_message("assistant", avatar=":material/warning:"):
        st.error(text(error.message), icon=":material/block:")  # the server's words are only words
        if error.detail:
            st.caption(text(error.detail))
        st.caption("Your message, the conversation and any typed results are kept.")
        buttons = st.container(horizontal=True)
        buttons.button("Retry", key="chat.retry", type="primary", icon=":material/refresh:",
                       on_click=state.chat().request, args=("retry",))
        if exchange is not None:
            messages.inspect_button(buttons, exchange.id)
    if exchange is not None and state.inspected() == exchange.id:
        inspector.render(exchange)


NOT_TYPED = "<result not typed yet>"


def _next_messages(history: list[Message], pending: list[ToolCall]) -> list[Message]:
    """What the next request carries: with calls pending, the results typed so far appended
    (an empty box shows as a marker), as Send tool results would send them."""
    if not pending:
        return history
    typed = state.typed_results(pending)
    results = {c.id: typed[c.id] if typed.get(c.id, "").strip() else NOT_TYPED for c in pending}
    return [*history, *tool_result_messages(pending, results, state.typed_errors(pending))]


def _next_request_code(endpoint: Endpoint, history: list[Message], tools: list[ToolSpec],
                       settings: ChatSettings, *, after_results: bool) -> None:
    """The next request as code, in the current format and translated to every other one."""
    with st.container(border=True):
        if after_results:
            st.markdown("**The request Send tool results will make**, with the results typed "
                        f"so far (an empty box shows as `{NOT_TYPED}`) — and the same "
                        "conversation in every other wire format")
        else:
            st.markdown("**The next request, as it would be sent now** — and the same "
                        "conversation in every other wire format")
        current = endpoint.format
        shown = [current, *(f for f in formats() if f.name != current.name)]
        bodies = {f.name: f.build_request(history, tools, settings) for f in shown}
        tabs = st.tabs([f"{f.label}{' (current)' if f is current else ''}" for f in shown])
        for tab, fmt in zip(tabs, shown, strict=True):
            target = endpoint if fmt is current else replace(
                endpoint, wire=fmt.name, key_env=fmt.key_env, bearer_auth=False)
            with tab:
                key = "chat.next" if fmt is current else f"chat.next.{fmt.name}"
                inspector.code(RequestSpec.of(target, bodies[fmt.name]), key=key,
                               demo=endpoint.is_demo)
        st.markdown("**Every format's request body side by side**")
        for column, fmt in zip(st.columns(len(shown)), shown, strict=True):
            column.caption(f"{fmt.label} · POST …{'' if fmt.base_includes_v1 else '/v1'}"
                           f"{fmt.path}")
            column.code(json.dumps(bodies[fmt.name], indent=2, ensure_ascii=False),
                        language="json")


guarded(page)
