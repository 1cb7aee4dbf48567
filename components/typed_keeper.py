"""Keep a tool result as it is typed, not only once its box is left.

Streamlit's text area hands its text to the server only on blur or Ctrl+Enter, so a reload in
the middle of typing lost it. This components-v2 piece (in the page, no iframe, a few lines of
JavaScript) listens to the box's input events and, when typing pauses, hands the text to
Streamlit as Ctrl+Enter would, so the box's own callback keeps it as its draft (session and
database) and the box holds no text Streamlit lacks: a box left holding some made the next click
in the navigation only hand it over (Streamlit 1.67). Where Streamlit does not take it, the text
goes as this piece's own state, stored the same way without touching the box. Leaving the box
cancels a pause not yet sent: Streamlit has the text then, and a request racing the click that
left the box could lose it.
"""

from __future__ import annotations

import re
from functools import partial

import streamlit as st

from components import history_sync, state

PAUSE_MS = 600

_JS = f"""
export default function (component) {{
  const {{ data, setStateValue }} = component;
  const attach = (tries) => {{
    const box = document.querySelector(data.selector);
    if (!box) {{ if (tries > 0) setTimeout(() => attach(tries - 1), 200); return; }}
    if (box.dataset.keeper === data.selector) return;
    box.dataset.keeper = data.selector;
    const pending = () => box.closest("[data-testid=stTextArea]")
      ?.querySelector("[data-testid=InputInstructions]");
    // Hand the text to Streamlit as Ctrl+Enter does (its own path: the box's on_change keeps
    // it): a box left holding text not handed over made the next click in the navigation
    // only hand it over. Where that is not taken (the "apply" hint still shows), send the
    // text as this piece's own state instead.
    const handOver = () => {{
      const text = box.value;
      box.dispatchEvent(new KeyboardEvent("keydown", {{
        key: "Enter", code: "Enter", ctrlKey: true, bubbles: true, cancelable: true }}));
      setTimeout(() => {{ if (pending() && box.value === text) setStateValue("text", text); }},
                 150);
    }};
    let timer;
    const later = () => {{
      clearTimeout(timer);
      timer = setTimeout(handOver, {PAUSE_MS});
    }};
    box.addEventListener("input", later);
    // Leaving the box hands its text to Streamlit anyway. A second request moments later
    // (the pause timer firing just after a click on Send) could make Streamlit drop that
    // click: a rerun that arrives while another is starting discards the first's clicks.
    box.addEventListener("blur", () => clearTimeout(timer));
    // Typed before this script was ready. An empty box is not that: a box drawn empty
    // must not send "" over the text kept for it.
    if (box.value && box.value !== data.kept) later();
  }};
  attach(50);
}}
"""

_mount = st.components.v2.component("toolsmith.typed_keeper", js=_JS)


def keeper_key(call_id: str) -> str:
    return f"chat.keeper.{call_id}"


def keep(call_id: str) -> None:
    """Mount next to the result box of this call (drawn just before it)."""
    box_class = "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", state.result_key(call_id))
    kept = state.chat().result_drafts.get(call_id, "")
    _mount(key=keeper_key(call_id), data={"selector": f".{box_class} textarea", "kept": kept},
           on_text_change=partial(history_sync.keep_typed_draft, call_id, keeper_key(call_id)))
