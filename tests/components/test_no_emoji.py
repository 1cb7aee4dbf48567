"""No emoji in what the pages draw: a Linux browser without an emoji font shows each as an
empty box (issue 13). Icons are Streamlit's Material icons (`:material/name:`), which ship
with Streamlit. Docstrings and comments may use emoji; strings the code draws may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\uFE0F]")


def _drawn_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef,
                                       ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_the_pages_draw_no_emoji() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
             *sorted((ROOT / "components").glob("*.py"))]
    found = [f"{path.relative_to(ROOT)}:{line}: {value!r}" for path in files
             for line, value in _drawn_strings(path) if EMOJI.search(value)]
    assert found == []
