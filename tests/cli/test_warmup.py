"""The server's warm-up (toolsmith/warmup.py): first what the Chat page needs and nothing
heavier, then, once nobody waits, what the other pages need on a first visit."""

import subprocess
import sys
from pathlib import Path

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
