"""Drive the Tools page's code editor (a components-v2 component) from AppTest.

AppTest has no handle for custom components, so these helpers speak the component's own
widget protocol: what the browser sends is a WidgetState with the component's id and a JSON
value ({"text": ...}), or a trigger payload on the component's event widget; what it receives is
the `data` of the element. The page's callbacks run exactly as they do for a browser.
"""

from __future__ import annotations

import json
from typing import Any

from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest


def editor_element(at: AppTest, editor_id: str) -> Any:
    key = f"tools.editor.code.{editor_id}"
    found = [e for e in at.get("bidi_component") if e.key == key]
    assert found, f"no code editor {key!r} on the page"
    return found[0]


def editor_data(at: AppTest, editor_id: str) -> dict[str, Any]:
    """What the page gave the editor: text, fmt, revision, problems (with ranges)."""
    proto = editor_element(at, editor_id).proto
    return json.loads(proto.json or proto.mixed.json)


def _send(at: AppTest, state: WidgetState) -> AppTest:
    states = at._tree.get_widget_states()
    states.widgets.append(state)
    return at._run(states)


def type_into_editor(at: AppTest, editor_id: str, text: str) -> AppTest:
    """The editor's debounced report of what the user typed (one rerun)."""
    widget_id = editor_element(at, editor_id).proto.id
    return _send(at, WidgetState(id=widget_id, json_value=json.dumps({"text": text})))


def press_in_editor(at: AppTest, editor_id: str, kind: str, text: str) -> AppTest:
    """Ctrl+S (`save`) or Ctrl+Enter (`check`) with the editor holding `text`."""
    widget_id = editor_element(at, editor_id).proto.id
    payload = [{"event": "action", "value": {"kind": kind, "text": text}}]
    return _send(at, WidgetState(id=_make_trigger_id(widget_id, "events"),
                                 json_trigger_value=json.dumps(payload)))
