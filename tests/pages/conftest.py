"""AppTest fixtures: the real app.py, run in process with a clean, test-owned environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"

# Variables that would point the app at a real server or change its start-up choice.
_CONFIG_PREFIXES = ("OPENAI_", "ANTHROPIC_", "TOOLSMITH_")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No provider configuration from the developer's shell; HOME and data dir in tmp."""
    for name in list(os.environ):
        if name.startswith(_CONFIG_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TOOLSMITH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TOOLSMITH_DEMO_DELAY", "0")
    monkeypatch.chdir(ROOT)
    yield monkeypatch


@pytest.fixture
def make_app(clean_env: pytest.MonkeyPatch) -> Callable[[], AppTest]:
    """Build and run a fresh AppTest of app.py; set env vars on `clean_env` first."""

    def make() -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        # A non-empty secrets dict replaces st.secrets for the run, so a developer's
        # .streamlit/secrets.toml cannot leak a real key into the tests. The app reads
        # `secrets.get(NAME) or env.get(NAME)`, so this unrelated entry changes nothing else.
        at.secrets["TOOLSMITH_TESTS"] = "isolated"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return make
