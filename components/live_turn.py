"""Draw a model turn while it streams, and let nothing end it by accident.

The request runs on a worker thread; this (the script's) thread draws what has arrived and
watches Streamlit's requests to it, without letting them cut the turn short:
- a click or a message sent meanwhile is held until the turn is recorded, then carried out
  (Streamlit would otherwise abandon the turn half-way: a quick follow-up or a second Retry
  used to leave it unanswered and unrecorded);
- **Stop** ends the turn at once: what arrived stays, marked as stopped, and is recorded;
- a closed tab ends it the same way, marked as interrupted, and still recorded.
Streamlit's own exceptions are raised again once the turn is kept, so it goes on as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from components import tool_call_card
from components.clients import client_for
from components.messages import AVATARS
from components.untrusted import assistant_markdown, code, text
from core.config import Endpoint
from core.live import size_note, snapshot
from core.stopped_turn import Reason, stopped_turn
from core.turn import TurnCancelled, TurnResult, TurnWatch, run_turn
from core.types import ChatSettings, Message, ToolCall, ToolSpec
from core.wire import errors
from core.wire.http import RetryNotice

log = logging.getLogger("toolsmith")
# A person sees no difference; 20,000 chunks would otherwise mean 20,000 redraws.
REDRAW_EVERY_S = 0.05
STOP_KEY = "chat.stop"


@dataclass
class _Held:
    """Requests Streamlit made of the script while the turn ran."""

    rerun: RerunData | None = None
    end: Reason | None = None  # "stopped" (the Stop button) or "interrupted" (tab closed)


def run(endpoint: Endpoint, messages: list[Message], tools: list[ToolSpec],
        settings: ChatSettings, keep: Callable[[TurnResult], None],
        started: Callable[[], None] = lambda: None) -> None:
    """Run one turn, drawing it as it streams; `keep` records the result (it must not use
    st.* or session state: after a closed tab, neither works). `started` is called once the
    request is under way (from then on nothing can end the turn unrecorded), so the page can
    let go of the action that asked for it only then. Ends the script run."""
    watch = TurnWatch()
    box: dict[str, object] = {}
    done = threading.Event()
    client = client_for(endpoint)

    def work() -> None:
        try:
            box["result"] = run_turn(endpoint, messages, tools, settings, client=client,
                                     on_retry=lambda n: box.__setitem__("retry", n),
                                     watch=watch)
        except TurnCancelled:
            pass
        except Exception as exc:  # never lose the turn to a bug: it becomes a failed turn
            log.exception("the turn failed")
            box["crash"] = exc
        finally:
            done.set()

    held = _Held()
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        status = st.empty()
        reasoning_box = st.empty()
        text_box = st.empty()
        calls_box = st.empty()
        status.caption(f"Waiting for {code(settings.model)}…")
        # On the right: drawn on the left, where Re-run was under the answer it replaces, the
        # second click of a double click on Re-run stopped the new answer at its first words
        # (seen in a Chromium walk-through).
        st.container(horizontal=True, horizontal_alignment="right").button(
            "Stop", key=STOP_KEY, icon=":material/stop_circle:",
            help="Stop this answer: what arrived so far is kept and recorded.")
        threading.Thread(target=work, name="toolsmith-turn", daemon=True).start()
        started()
        drawn = (-1, -1, -1)
        while not done.wait(REDRAW_EVERY_S):
            _watch_requests(held)
            if held.end:
                break
            try:  # every st.* call is where Streamlit hands the script its requests too
                drawn = _draw(watch, box, drawn, status, reasoning_box, text_box, calls_box,
                              endpoint.api_key)
            except StopException:
                held.end = "interrupted"
                break
            except RerunException as request:
                _hold(held, request.rerun_data)
                if held.end:
                    break
    result = (stopped_turn(watch, held.end, endpoint.api_key) if held.end
              else _finished(watch, box))
    if result is not None:
        keep(result)
    if held.end == "interrupted":
        raise StopException
    if held.rerun is not None:
        raise RerunException(held.rerun)
    st.rerun()


def _finished(watch: TurnWatch, box: dict[str, object]) -> TurnResult | None:
    if "result" in box:
        return box["result"]  # type: ignore[return-value]
    crash = box.get("crash")
    if watch.exchange is None or crash is None:
        return None
    error = errors.ToolsmithError(
        "Toolsmith failed while reading this answer (the details are in the server log). "
        "Retry; if it happens again, Inspect the request.",
        detail=f"({type(crash).__name__})")
    watch.exchange.error = error.message
    watch.exchange.error_kind = error.kind
    watch.exchange.ended_at = time.time()
    return TurnResult(exchange=watch.exchange, error=error)


def _watch_requests(held: _Held) -> None:
    """Take Streamlit's pending request, if any: Stop or a closed tab end the turn; any other
    rerun (a click, a message) waits for it."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    if requests is None:
        return
    request = requests.on_scriptrunner_yield()
    if request is None:
        return
    if request.type == ScriptRequestType.STOP:
        held.end = "interrupted"
        return
    _hold(held, request.rerun_data)


def _hold(held: _Held, data: RerunData) -> None:
    if _clicked(data, STOP_KEY):
        held.end = "stopped"
    held.rerun = _merged(held.rerun, data)


def _clicked(data: RerunData, key: str) -> bool:
    states = data.widget_states.widgets if data.widget_states is not None else []
    return any(w.id.endswith(f"-{key}") and w.WhichOneof("value") == "trigger_value"
               and w.trigger_value for w in states)


def _merged(old: RerunData | None, new: RerunData) -> RerunData:
    """A later request keeps the clicks and messages of an earlier one (as Streamlit's own
    queue does), so a message sent before a click is not lost to it."""
    if old is None:
        return new
    try:
        from dataclasses import replace

        from streamlit.runtime.scriptrunner_utils.script_requests import (
            _coalesce_widget_states,
        )

        return replace(new, widget_states=_coalesce_widget_states(old.widget_states,
                                                                  new.widget_states))
    except (ImportError, TypeError, AttributeError):  # the private helper moved: keep the last
        return new


def _draw(watch: TurnWatch, box: dict[str, object], drawn: tuple[int, int, int],
          status, reasoning_box, text_box, calls_box, secret: str) -> tuple[int, int, int]:
    """Redraw what changed since the last time; returns the sizes drawn. Only a bounded,
    redacted tail goes over the websocket (core.live explains why)."""
    notice = box.pop("retry", None)
    if isinstance(notice, RetryNotice):
        if notice.reason.startswith("The stream was cut"):
            for part in (reasoning_box, text_box, calls_box):  # the partial answer is gone
                part.empty()
            drawn = (-1, -1, -1)
        status.warning(f"{text(notice.reason)} Retrying in {notice.delay_s:.1f} s "
                       f"(retry {notice.retry_number} of {notice.max_retries})…",
                       icon=":material/autorenew:")
    acc = watch.accumulator
    if acc is None:
        return drawn
    view = snapshot(acc, secret)
    arguments = sum(c.arguments_chars for c in view.calls) + len(view.calls)
    sizes = (view.reasoning_chars, view.text_chars, arguments)
    if sizes == drawn:
        return drawn
    if any(sizes):
        status.empty()
    if view.reasoning and sizes[0] != drawn[0]:
        note = size_note(view.reasoning_chars)
        reasoning_box.caption(f"Reasoning: {'… ' if note else ''}{text(view.reasoning)}")
    if view.text and sizes[1] != drawn[1]:
        note = size_note(view.text_chars)
        with text_box.container():
            if note:
                st.caption(f"… {note}")
            st.markdown(assistant_markdown(view.text) + " ▌")
    if view.calls and sizes[2] != drawn[2]:
        with calls_box.container():
            for call in view.calls:
                tool_call_card.render(ToolCall(call.id, call.name, call.arguments_tail),
                                      live=True, live_note=call.size_note)
    return sizes
