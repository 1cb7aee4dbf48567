"""Edit, delete, re-run and branch from any message of the Chat page.

Editing a user message and sending it, re-running an earlier answer, or Branch from here start
a new session (a branch) with the messages before that point; the session they came from is
left as it was, so the previous branch stays reachable (History, and a link on the page).
Delete changes the open session itself. Re-running the last answer replaces it in place, as
Retry this turn does.
"""

from __future__ import annotations

import streamlit as st

from components import history_sync, state
from components.untrusted import code
from core.conversation import branch, without_message
from core.types import Message


def buttons(message: Message, *, last: bool) -> None:
    """The small buttons under a user or assistant message."""
    if message.role not in ("user", "assistant"):
        return
    row = st.container(horizontal=True, gap="small")
    chat = state.chat()  # the clicks go to the chat drawn (ChatState.request says why)
    ask = chat.request_message_action
    if message.role == "user":
        row.button("Edit", key=f"chat.msg.edit.{message.id}", type="tertiary",
                   icon=":material/edit:", on_click=chat.start_edit,
                   args=(message.id, message.content),
                   help="Change this message and send it again: the conversation branches "
                        "here, and the previous branch stays in History.")
    else:
        row.button("Re-run", key=f"chat.msg.rerun.{message.id}", type="tertiary",
                   icon=":material/refresh:", on_click=ask,
                   args=("rerun", message.id),
                   help="Ask the model again from the message before this answer"
                        + (" (replaces it)." if last else " (in a new branch; this one stays "
                                                          "in History)."))
    row.button("Branch", key=f"chat.msg.branch.{message.id}", type="tertiary",
               icon=":material/call_split:", on_click=ask,
               args=("branch", message.id),
               help="A new session with the conversation up to and including this message.")
    row.button("Delete", key=f"chat.msg.delete.{message.id}", type="tertiary",
               icon=":material/delete:", on_click=ask,
               args=("delete", message.id),
               help="Remove this message from the conversation"
                    + (" (with the results of its tool calls)." if message.tool_calls else "."))


def edit_box(message: Message) -> None:
    """The user message being edited, in place of its bubble's text."""
    st.text_area("Edit the message", key=state.edit_key(message.id), height=120)
    row = st.container(horizontal=True)
    chat = state.chat()
    row.button("Send as a new branch", key=f"chat.msg.send_edit.{message.id}", type="primary",
               icon=":material/send:", on_click=chat.submit_edit, args=(message.id,))
    row.button("Cancel", key=f"chat.msg.cancel_edit.{message.id}", on_click=chat.cancel_edit)
    st.caption("Sending starts a new branch from here; the conversation as it is now stays in "
               "History.")


def apply(action: tuple[str, str, str]) -> bool:
    """Carry out a message's action; True when the model should be asked next."""
    kind, message_id, text = action
    chat = state.chat()
    messages = chat.conversation.messages
    index = next((i for i, m in enumerate(messages) if m.id == message_id), None)
    if index is None:
        return False  # gone meanwhile (another action, New chat)
    if kind == "delete":
        kept = without_message(messages, message_id)
        kept_ids = {m.id for m in kept}
        dropped = [m for m in messages if m.id not in kept_ids]
        first_change = next(i for i, m in enumerate(messages) if m.id not in kept_ids)
        state.clear_results([c for m in dropped for c in m.tool_calls], widgets=True)
        chat.conversation.messages = kept
        history_sync.truncate(first_change)
        return False
    if kind == "rerun" and index == len(messages) - 1:
        state.clear_results(messages[-1].tool_calls, widgets=True)
        messages.pop()  # as Retry this turn: its exchange stays among the session's records
        history_sync.truncate(len(messages))
        return True
    keep = index + 1 if kind == "branch" else index
    new = branch(chat.conversation, keep)
    if kind == "edit":
        new.messages.append(Message(role="user", content=text))
    state.switch_to_branch(new)
    return kind in ("edit", "rerun")


def branch_note() -> None:
    """While a branch is open: where it came from, one click away."""
    chat = state.chat()
    if chat.branched_from:
        st.info(f"This conversation is a branch (session {code(chat.conversation.id)}). The "
                f"one it came from stays as it was: [reopen it](?session={chat.branched_from})"
                " (also in History).", icon=":material/call_split:")
