"""The committed editor bundle is built from the committed sources (`make frontend` was run
after the last change to frontend/src or its packages), and is what the page loads."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "static" / "editor"


def source_hash() -> str:
    """The same digest as frontend/stamp.mjs: path, NUL, content, NUL, in sorted path order."""
    files = sorted(["package.json", "package-lock.json",
                    *(f"src/{p.name}" for p in (FRONTEND / "src").iterdir() if p.is_file())])
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0")
        digest.update((FRONTEND / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_bundle_is_built_from_the_current_sources() -> None:
    recorded = (BUNDLE / "SOURCE.sha256").read_text().strip()
    assert recorded == source_hash(), "frontend/ changed since the bundle was built: make frontend"


def test_the_bundle_and_its_licences_are_committed() -> None:
    bundle = (BUNDLE / "toolsmith-editor.js").read_text(encoding="utf-8")
    assert "export default" in bundle or "export{" in bundle.replace(" ", "")
    assert len(bundle) > 100_000  # CodeMirror itself, not a stub
    licences = (BUNDLE / "THIRD_PARTY_LICENSES.txt").read_text(encoding="utf-8")
    assert "@codemirror/view" in licences and "MIT" in licences
