""""Save as test case" on the Chat page (any user message) and the History page: the
conversation up to that message becomes a case, what the model did next its expectation (exact
arguments, to be loosened in the Evals page's editor). The case waits on the Evals page until
the user picks the suite it goes into."""

from __future__ import annotations

import streamlit as st

from components import state
from components.evals import state as evals_state
from core.conversation import Conversation
from core.evals.authoring import case_from_conversation
from core.types import Message

EVALS_PAGE = "app_pages/evals.py"


def follow() -> None:
    """After a save, go to the Evals page (a callback cannot switch pages itself)."""
    if st.session_state.pop("evals.go", False):
        st.switch_page(EVALS_PAGE)


def _offer(messages: list[Message], message_id: str) -> None:
    ids = [m.id for m in messages]
    if message_id not in ids:
        state.flash("error", "That message is no longer in the conversation.")
        return
    evals_state.offer_case(case_from_conversation(messages, ids.index(message_id)))
    st.session_state["evals.go"] = True


def save_from_chat(message_id: str) -> None:
    _offer(state.chat().conversation.messages, message_id)


def chat_button(message: Message) -> None:
    """The small button under a user message on the Chat page."""
    follow()
    st.button("Save as test case", key=f"chat.save_case.{message.id}", type="tertiary",
              icon=":material/science:",
              help="This conversation up to here, with the model's next tool calls as the "
                   "expectation, as a case of a schema test suite (Evals page).",
              on_click=save_from_chat, args=(message.id,))


def history_picker(conversation: Conversation) -> None:
    """On the History page's Manage panel: pick a user message, save it as a case."""
    follow()
    users = {m.id: f"{i + 1}. {m.content[:60]}" for i, m in
             enumerate(conversation.messages) if m.role == "user"}
    if not users:
        return
    key = f"history.save_case_at.{conversation.id}"
    chosen = st.selectbox("Save as test case, from user message", list(users),
                          format_func=users.get, key=key, index=len(users) - 1)
    st.button("🧪 Save as test case", key=f"history.save_case.{conversation.id}",
              on_click=_offer, args=(conversation.messages, chosen),
              help="The conversation up to this message, with the model's next tool calls "
                   "as the expectation, goes to the Evals page to be added to a suite.")
