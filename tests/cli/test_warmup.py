"""The server launcher's warm-up loads what the Chat page needs, and nothing heavier: pandas,
Altair and the MCP SDK imported on its thread slowed the server while a browser was loading
(toolsmith/serve.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_warm_up_loads_the_chat_pages_libraries_and_not_the_heavy_ones() -> None:
    code = ("import sys, importlib; from toolsmith.serve import chat_modules; "
            "names = chat_modules(); [importlib.import_module(n) for n in names]; "
            "print(','.join(m for m in ['sqlalchemy', 'httpx', 'jsonschema', 'core.store', "
            "'core.turn', 'pandas', 'altair', 'mcp', 'streamlit'] if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.split(",") == ["sqlalchemy", "httpx", "jsonschema", "core.store", "core.turn"]
