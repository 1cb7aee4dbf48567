"""The code editor of the Tools page: CodeMirror 6 as a Streamlit components-v2 component (in
the page, no iframe).

The built bundle (frontend/, `make frontend`) is served by Streamlit's static file serving from
static/editor/; the component itself is a few lines that import it, so a rerun sends those few
lines rather than 400 kB of JavaScript, and the browser caches the bundle (its URL carries a
hash of its content, so a rebuilt bundle is fetched anew).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

BUNDLE = Path(__file__).resolve().parents[1] / "static" / "editor" / "toolsmith-editor.js"
_VERSION = hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:12] if BUNDLE.exists() else "missing"

# When the bundle cannot be fetched (static serving turned off, a proxy that drops app/static),
# a plain text box stands in, speaking the same state, so the tool can still be edited.
_LOADER = f"""
const url = new URL("app/static/editor/toolsmith-editor.js?v={_VERSION}", document.baseURI);
const fallbacks = new WeakMap();
function plain(component, error) {{
  const {{ parentElement, data, setStateValue }} = component;
  let box = fallbacks.get(parentElement);
  if (!box) {{
    const note = document.createElement("p");
    note.textContent = "The code editor could not be loaded (" + error + "); a plain text box " +
      "stands in. Serve static/ (server.enableStaticServing) to get it back.";
    box = document.createElement("textarea");
    box.setAttribute("aria-label", "Tool definition");
    box.rows = 24;
    box.style.width = "100%";
    box.style.fontFamily = "monospace";
    let timer;
    box.addEventListener("input", () => {{
      clearTimeout(timer);
      timer = setTimeout(() => setStateValue("text", box.value), 350);
    }});
    parentElement.append(note, box);
    fallbacks.set(parentElement, box);
  }}
  if (box.dataset.revision !== String(data.revision)) {{
    box.dataset.revision = String(data.revision);
    box.value = data.text;
  }}
}}
export default async function (component) {{
  let editor;
  try {{
    editor = await import(url.href);
  }} catch (error) {{
    return plain(component, String(error && error.message || error));
  }}
  return editor.default(component);
}}
"""

_mount = st.components.v2.component("toolsmith.code_editor", js=_LOADER)


def code_editor(*, key: str, text: str, fmt: str, revision: int, marks: list[dict[str, Any]],
                on_text: Callable[[], None], on_action: Callable[[], None]) -> None:
    """Mount the editor. `revision` tells the browser when `text` is a rewrite to adopt (it
    keeps what the user typed otherwise); `marks` are the problems with their text ranges.
    The typed text arrives as state `text` (on_text), Ctrl+S / Ctrl+Enter as trigger
    `action` = {kind, text} (on_action)."""
    _mount(key=key, data={"text": text, "fmt": fmt, "revision": revision, "problems": marks},
           on_text_change=on_text, on_action_change=on_action)
