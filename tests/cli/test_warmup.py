"""The server's warm-up (toolsmith/warmup.py): first what the Chat page needs and nothing
heavier, then, once nobody waits, what the other pages need on a first visit."""

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from toolsmith import warmup

ROOT = Path(__file__).resolve().parents[2]
WATCHED = ["sqlalchemy", "httpx", "jsonschema", "core.store", "core.turn", "pandas", "pyarrow",
           "core.usage", "core.evals.runner", "altair", "mcp", "streamlit"]


def _loaded_by(phases: str) -> list[str]:
    code = (f"import sys, importlib; from toolsmith import warmup; "
            f"[importlib.import_module(n) for n in {phases}]; "
            f"print(','.join(m for m in {WATCHED!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    return out.split(",")


def test_phase_one_loads_the_chat_pages_libraries_and_not_the_heavy_ones() -> None:
    assert _loaded_by("warmup.chat_modules()") == [
        "sqlalchemy", "httpx", "jsonschema", "core.store", "core.turn"]


def test_phase_two_loads_what_tools_evals_and_usage_need_but_not_the_mcp_sdk() -> None:
    assert _loaded_by("warmup.chat_modules() + warmup.later_modules()") == [
        "sqlalchemy", "httpx", "jsonschema", "core.store", "core.turn", "pandas", "pyarrow",
        "core.usage", "core.evals.runner"]


# --- when phase 2 goes ahead ---------------------------------------------------------------

@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The warm-up's view of the server, set by each test: nobody connected, no browser."""
    seen: dict[str, object] = {"state": "NO_SESSIONS_CONNECTED", "loading": False}
    monkeypatch.setattr(warmup, "_page_drawn", threading.Event())
    monkeypatch.setattr(warmup, "_runtime_state", lambda: seen["state"])
    monkeypatch.setattr(warmup, "_browser_loading", lambda: seen["loading"])
    monkeypatch.setattr(warmup, "AFTER_FIRST_PAGE_S", 0.0)
    return seen


def waiting() -> threading.Thread:
    thread = threading.Thread(target=warmup._wait_for_a_quiet_moment, daemon=True)
    thread.start()
    return thread


def test_an_idle_server_goes_ahead(gate: dict[str, object]) -> None:
    thread = waiting()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.parametrize("who", ["a session", "a browser loading the page"])
def test_a_person_who_arrived_gets_their_first_page_first(gate: dict[str, object],
                                                          who: str) -> None:
    if who == "a session":
        gate["state"] = "ONE_OR_MORE_SESSIONS_CONNECTED"
    else:
        gate["loading"] = True
    thread = waiting()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # still waiting for that page
    warmup.page_drawn()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_an_open_connection_to_the_server_is_a_browser_loading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        monkeypatch.setattr(config, "get_option", lambda name: port)
        assert not warmup._browser_loading()
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            with accepted:
                assert warmup._browser_loading()


def test_what_the_warm_up_loaded_is_left_out_of_garbage_collections() -> None:
    """A full collection walks only what came after: the modules loaded stay for good."""
    code = ("import gc; from toolsmith import warmup; "
            "warmup._wait_until_serving = warmup._wait_for_a_quiet_moment = lambda: None; "
            "warmup.run(); print(gc.get_freeze_count(), len(gc.get_objects()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    frozen, walked = int(out[0]), int(out[1])
    assert frozen > 50_000
    assert walked < frozen / 20


def test_the_first_element_drawn_does_not_walk_the_call_stack() -> None:
    """Streamlit's check for a Python prompt (inspect.stack, 0.12 s on a first visit) is
    already answered on this server."""
    code = ("import inspect; from streamlit import delta_generator; from toolsmith import warmup; "
            "warmup._wait_until_serving = warmup._wait_for_a_quiet_moment = lambda: None; "
            "warmup._load = warmup._read_library = warmup._load_vocabulary = lambda *a: None; "
            "warmup.run(); "
            "inspect.stack = lambda *a: (_ for _ in ()).throw(AssertionError('stack walked')); "
            "delta_generator._maybe_print_use_warning(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
