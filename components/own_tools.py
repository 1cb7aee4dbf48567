"""A person's own tools in team mode: kept in the database, edited with the same editor.

The editor, import and export work on tool files, so each signed-in person (not an admin:
admins edit the shared tools/ folder) gets a folder on this app server that mirrors their
rows: brought up to date from the database whenever the library is read (another app server
may have changed them), and written back to the database after every save, import or delete.
The database is the truth; the folder is a cache any app server can rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from components import storage, team

log = logging.getLogger("toolsmith")


def _data_dir() -> Path:
    return Path(os.environ.get("TOOLSMITH_DATA_DIR") or Path.home() / ".toolsmith").expanduser()


def _owner_folder(owner: str) -> Path:
    digest = hashlib.sha256(owner.encode()).hexdigest()[:24]
    return _data_dir() / "user-tools" / digest


def owner() -> str:
    """The signed-in person whose own tools are in play; "" when edits go to tools/."""
    who = team.current()
    if who is None or not who.team or who.admin:
        return ""
    return who.user


def folder() -> Path | None:
    """The person's own tools folder, mirrored from the database now; None when there is none
    (local mode, an admin, or no database)."""
    person = owner()
    db = storage.store() if person else None
    if db is None or db.owner != person:
        return None
    try:
        rows = db.own_tools()
    except SQLAlchemyError as exc:
        log.error("reading own tools failed: %s", exc.__class__.__name__)
        rows = {}
    path = _owner_folder(person)
    path.mkdir(parents=True, exist_ok=True)
    for name, source in rows.items():
        target = path / f"{name}.yaml"
        if not target.exists() or target.read_text(encoding="utf-8") != source:
            target.write_text(source, encoding="utf-8")
    for stale in [*path.glob("*.yaml"), *path.glob("*.yml")]:
        if stale.stem not in rows:
            stale.unlink(missing_ok=True)
    return path


def holds(path: Path | None) -> bool:
    """True when the file is one of the person's own tools."""
    own = folder()
    return own is not None and path is not None and path.parent.resolve() == own.resolve()


def keep(written: Path, replaced: Path | None = None) -> None:
    """Write a saved file (and the removal of the one it replaced) to the database."""
    db = storage.writable_store()
    if db is None or not owner():
        return
    db.save_own_tool(written.stem, written.read_text(encoding="utf-8"))
    if replaced is not None and replaced.stem != written.stem and holds(replaced):
        db.delete_own_tool(replaced.stem)


def forget(path: Path) -> None:
    db = storage.writable_store()
    if db is not None and owner():
        db.delete_own_tool(path.stem)
