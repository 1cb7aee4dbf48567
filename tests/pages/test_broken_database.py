"""A broken database says so, and stays usable (AppTest on the real app.py).

A corrupt SQLite file: a lasting banner with the reason and the path on every page and every
rerun; chats work; the open conversation survives a reload of the page (kept in the server's
memory for the browser session's ?session= link). A read-only file: the same banner, History
still lists and opens what is stored, and the file is neither migrated nor switched to WAL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.conversation import Conversation
from core.store import Store
from core.types import Message
from tests.support.apptest import ask, messages, run

MakeApp = Callable[[], AppTest]
QUESTION = "What's the weather like in Boston today?"


def db_path() -> Path:
    return Path(os.environ["TOOLSMITH_DATA_DIR"]) / "toolsmith.db"


def read_only(directory: Path, on: bool) -> None:
    """The data directory and its database file made read-only (or writable again): by mode
    bits, and for root (whom mode bits do not stop) by the immutable attribute."""
    targets = [directory / "toolsmith.db", directory]
    if not on:
        targets.reverse()
    for target in targets:
        mode = (stat.S_IRUSR | stat.S_IXUSR) if target.is_dir() else stat.S_IRUSR
        if on:
            target.chmod(mode)
        if os.geteuid() == 0 and shutil.which("chattr"):
            subprocess.run(["chattr", "+i" if on else "-i", str(target)], check=False,
                           capture_output=True)
        if not on:
            target.chmod(stat.S_IRWXU if target.is_dir() else 0o600)


def banners(at: AppTest) -> list[str]:
    return [w.value for w in at.main.warning] + [e.value for e in at.main.error]


def db_banner(at: AppTest) -> str:
    found = [b for b in banners(at) if "history" in b.lower() and str(db_path()) in b]
    assert found, banners(at)
    return found[0]


def test_a_corrupt_database_shows_a_lasting_banner_and_chats_survive_a_reload(
        make_app: MakeApp) -> None:
    db_path().parent.mkdir(parents=True, exist_ok=True)
    db_path().write_bytes(b"this is not a database" * 100)
    at = make_app()
    assert "not saved" in db_banner(at)
    ask(at, QUESTION)
    assert messages(at)[-1].tool_calls  # the chat works
    assert db_banner(at)  # still there after the turn's rerun
    session = at.query_params["session"]
    session = session[0] if isinstance(session, list) else session

    again = make_app()  # a reload: a new browser session on the same URL
    again.query_params["session"] = session
    run(again)
    assert [m.content for m in messages(again)][:1] == [QUESTION]
    assert db_banner(again)
    assert not [e for e in again.error if "Something went wrong" in e.value]


def test_a_read_only_database_is_read_but_never_written(make_app: MakeApp) -> None:
    db_path().parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{db_path()}")
    stored = Conversation(messages=[Message(role="user", content="Kept from before")])
    store.record(stored)
    store.engine.dispose()
    for extra in db_path().parent.glob("toolsmith.db-*"):  # checkpointed: one file left
        extra.unlink()
    read_only(db_path().parent, True)
    before = hashlib.sha256(db_path().read_bytes()).hexdigest()
    try:
        try:
            db_path().open("r+b").close()
        except OSError:
            pass
        else:
            pytest.skip("this file system lets this user write a read-only file")
        at = make_app()
        assert "read-only" in db_banner(at)
        at.switch_page("app_pages/history.py")
        run(at)
        assert any("Kept from before" in m.value for m in at.markdown) or \
            "Kept from before" in str([b.label for b in at.button])
        at.switch_page("app_pages/chat.py")
        run(at)
        ask(at, QUESTION)
        assert messages(at)[-1].tool_calls
        assert db_banner(at)
        assert hashlib.sha256(db_path().read_bytes()).hexdigest() == before
        assert sorted(p.name for p in db_path().parent.iterdir()) == ["toolsmith.db"]
    finally:
        read_only(db_path().parent, False)
