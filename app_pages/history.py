"""History: find, open, rename, fork, delete, export and import saved sessions."""

import time

import streamlit as st

from components import history_actions, state
from components.evals import save_case
from components.shell import guarded
from components.storage import store
from components.untrusted import code, text
from core.session_io import MAX_IMPORT_BYTES
from core.store import SessionInfo, Store
from core.types import Message


def page() -> None:
    opening = history_actions.pending_open()
    if opening:
        st.switch_page("app_pages/chat.py", query_params={"session": opening})
    st.title("History")
    db = store()
    if db is None:
        return
    flash = state.take_flash()
    if flash:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    search = st.text_input("Search titles and messages", key="history.search",
                           placeholder="e.g. Boston")
    sessions = db.list_sessions(search, limit=history_actions.shown() + 1)
    if not sessions:
        st.info("No saved sessions match." if search else
                "No saved sessions yet: every chat is saved here as it happens.")
    selected = history_actions.selected()
    for info in sessions[: history_actions.shown()]:
        _row(info, db)
        if info.id == selected:
            _manage(db, info)
    if len(sessions) > history_actions.shown():
        st.button("Show more sessions", key="history.more", on_click=history_actions.show_more)
    st.subheader("Import a session", divider="gray")
    upload = st.file_uploader(
        f"A Toolsmith session export (.json, up to {MAX_IMPORT_BYTES // 1_000_000} MB)",
        type=["json"], key=state.uploader_key("history.import_file"),
        max_upload_size=max(1, MAX_IMPORT_BYTES // 1_000_000))
    if upload is not None:
        st.button(f"Import {upload.name}", key="history.import_go", type="primary",
                  on_click=history_actions.import_file, args=(upload.getvalue(),))
    imported = state.take_flash("import")
    if imported:
        (st.success if imported[0] == "success" else st.error)(imported[1])


def _row(info: SessionInfo, db: Store) -> None:
    with st.container(border=True):
        left, right = st.columns([4, 2], vertical_alignment="center")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated_at))
        left.markdown(f"**{text(info.title, 200)}**")
        left.caption(f"{when} · {text(info.model or '?')} ({text(info.provider or '?')}) · "
                     f"{_count(info.messages, 'message')} · {_count(info.requests, 'request')} · "
                     f"{info.tokens:,} tokens · {code(info.id)}")
        if info.branched_from:
            left.caption(f":material/call_split: A branch of {code(info.branched_from)}")
        if info.last_text and info.last_text != info.title:
            # Sessions that began with the same question differ in where they got to.
            left.caption(f"Latest: {text(' '.join(info.last_text.split()), 120)}")
        buttons = right.container(horizontal=True)
        buttons.button("Open", key=f"history.open.{info.id}", type="primary",
                       on_click=history_actions.open_in_chat, args=(info.id,),
                       help=f"Open “{info.title[:80]}” ({when}, {info.id}) on the Chat page")
        buttons.download_button(
            # The viewer's store is bound now: the export is made outside this run, where
            # the signed-in user cannot be looked up.
            "Export", data=lambda sid=info.id: history_actions.export_text(sid, db),
            file_name=f"toolsmith-{info.id}.json", mime="application/json",
            key=f"history.export.{info.id}", on_click="ignore")
        buttons.button("Manage", key=f"history.manage.{info.id}",
                       on_click=history_actions.select, args=(info.id,))


def _manage(db: Store, info: SessionInfo) -> None:
    """Rename, fork and delete for the one session picked with Manage."""
    with st.container(border=True):
        st.markdown(f"**Manage** · {text(info.title, 200)}")
        title_key = f"history.title.{info.id}"
        st.text_input("Title", value=info.title, key=title_key)
        st.button("Rename", key=f"history.rename.{info.id}",
                  on_click=history_actions.rename, args=(info.id, title_key))
        if db.owner is not None:  # team mode: share a read-only link with signed-in teammates
            share_key = f"history.share.{info.id}"
            st.toggle("Share with the team (read-only link)", value=info.shared, key=share_key,
                      on_change=history_actions.share, args=(info.id, share_key),
                      help="Signed-in teammates who open the link see this session and can "
                           "fork it; they cannot change it or see your typed results.")
            if info.shared:
                st.code(history_actions.share_link(info.id), language=None)
        conversation = db.load(info.id)
        if conversation and conversation.messages:
            labels = {m.id: f"{i + 1}. {m.role}: {(m.content or _calls(m))[:60]}"
                      for i, m in enumerate(conversation.messages)}
            chosen = st.selectbox("Fork from message", list(labels), format_func=labels.get,
                                  key=f"history.fork_at.{info.id}", index=len(labels) - 1)
            st.button("Fork", key=f"history.fork.{info.id}", on_click=history_actions.fork,
                      args=(info.id, chosen),
                      help="A new session with the messages up to and including this one.")
            save_case.history_picker(conversation)
        if history_actions.delete_pending(info.id):
            st.error("Delete this session and its usage records? This cannot be undone.")
            yes, no = st.columns(2)
            yes.button("Yes, delete", key=f"history.delete_yes.{info.id}",
                       on_click=history_actions.delete, args=(info.id,))
            no.button("Cancel", key=f"history.delete_no.{info.id}",
                      on_click=history_actions.cancel_delete)
        else:
            st.button("Delete…", key=f"history.delete.{info.id}",
                      on_click=history_actions.ask_delete, args=(info.id,))


def _calls(message: Message) -> str:
    return ", ".join(f"{c.name}()" for c in message.tool_calls)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


guarded(page)
