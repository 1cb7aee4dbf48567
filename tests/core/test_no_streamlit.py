"""core/ never imports Streamlit (docs/architecture.md, "Layers"), so it runs in tests,
benchmarks and scripts.

The check reads the source with ast rather than importing it: every `import` and
`from … import` counts, including ones inside functions, and so do `importlib.import_module`
/ `__import__` calls with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = "streamlit"


def streamlit_imports(source: str, filename: str = "<source>") -> list[str]:
    """`file:line  statement` for each place that imports streamlit."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and _is_dynamic_import(node.func):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        for name in names:
            if name.split(".")[0] == FORBIDDEN:
                found.append(f"{filename}:{node.lineno}  {ast.unparse(node)}")
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts)


def test_core_never_imports_streamlit() -> None:
    found = [hit for path in core_modules()
             for hit in streamlit_imports(path.read_text(), str(path.relative_to(CORE.parent)))]
    assert not found, "core/ must stay framework-free:\n" + "\n".join(found)


def test_the_walk_covers_core_and_its_subpackages() -> None:
    names = {str(p.relative_to(CORE)) for p in core_modules()}
    assert {"turn.py", "wire/sse.py", "config.py", "wire/openai_chat.py",
            "demo/transport.py"} <= names


@pytest.mark.parametrize("source", [
    "import streamlit",
    "import streamlit as st",
    "import os, streamlit.components.v1 as components",
    "from streamlit import session_state",
    "from streamlit.runtime.scriptrunner import get_script_run_ctx",
    "def render():\n    import streamlit as st\n    st.write(1)",
    "class A:\n    def f(self):\n        from streamlit import cache_data",
    "try:\n    import streamlit\nexcept ImportError:\n    pass",
    "import importlib\nst = importlib.import_module('streamlit')",
    "st = __import__('streamlit')",
])
def test_the_check_catches_every_form(source: str) -> None:
    """Guards the guard: each way of importing streamlit is reported."""
    assert streamlit_imports(source)


@pytest.mark.parametrize("source", [
    "import streamlit_extras_not_streamlit",
    "from . import streamlit",  # a sibling module that happens to share the name
    "text = 'import streamlit'",
    "# import streamlit",
])
def test_the_check_ignores_lookalikes(source: str) -> None:
    assert not streamlit_imports(source)
