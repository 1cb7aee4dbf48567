"""Every page imports the MCP plumbing and the Evals page its Results view; the heavy libraries
behind them (the MCP SDK with pydantic, ~0.5 s; Altair, ~0.6 s) load only when used, so a first
visit does not pay for them (bench/pages.py measures the visit). The Usage charts never need
Altair."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(imports: str, modules: list[str]) -> list[str]:
    code = (f"import sys; import {imports}; "
            f"print(','.join(m for m in {modules!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_chat_page_modules_do_not_import_the_mcp_sdk() -> None:
    loaded = _loaded_after("components.sidebar, components.history_sync, components.tool_results, "
                           "components.mcp_run, components.mcp_state, components.mcp_servers",
                           ["mcp", "pydantic"])
    assert loaded == []


def test_evals_results_view_does_not_import_altair_until_a_chart() -> None:
    assert _loaded_after("components.evals.results", ["altair"]) == []


def test_usage_charts_import_without_altair() -> None:
    assert _loaded_after("components.usage_charts", ["altair"]) == []
