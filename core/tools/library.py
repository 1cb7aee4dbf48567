"""The tool library: one YAML file per tool under tools/, read and written here.

A file that fails to load is listed with its problems instead of breaking the library; saving
writes `<name>.yaml` and removes the old file when a tool is renamed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from core.tools.schemas import (
    Problem,
    ToolFileError,
    document_from_spec,
    dump_text,
    parse_tool,
    structure_problems,
)
from core.types import ToolSpec

MAX_TOOL_FILE_BYTES = 256_000
SHIPPED = Path(__file__).resolve().parents[2] / "tools"


def library_dir() -> Path:
    """The tool library folder: TOOLSMITH_TOOLS_DIR, else tools/ in the checkout."""
    return Path(os.environ.get("TOOLSMITH_TOOLS_DIR") or SHIPPED)

# Team mode: a `run` section makes the server send requests (an HTTP tool), so only the admins'
# shared tools/ library may hold one; a person's own tools describe a tool, never run it.
RUN_IS_ADMINS = ("HTTP tools come only from the admins' configuration: your own tools cannot "
                 "have a `run` section (remove it, or ask an admin to add the tool to the "
                 "shared tools/ library)")


def program_problems(document: object) -> list[Problem]:
    """The refusal of a `run` section in a tool document that is not the admins' to define."""
    if isinstance(document, dict) and "run" in document:
        return [Problem(RUN_IS_ADMINS, "/run")]
    return []


@dataclass
class LibraryEntry:
    """One file of the tool library: a spec, or the problems that keep it from being one."""

    path: Path
    spec: ToolSpec | None = None
    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else self.path.stem

    @property
    def error(self) -> str | None:
        errors = [p for p in self.problems if p.severity == "error"]
        return "; ".join(str(p) for p in errors) if errors else None


# Parsed files by path, valid while the file's (mtime, size) is unchanged: the Chat page reads
# the library on every rerun, and parsing plus metaschema checks cost ~4 ms per file.
_parsed: dict[Path, tuple[tuple[int, int], LibraryEntry]] = {}


def load_library(directory: Path, *, programs: bool = True) -> list[LibraryEntry]:
    """Every *.yaml / *.yml file of the library, sorted by file name; broken ones included.

    With `programs=False` (a person's own tools in team mode) a tool with a `run` section is
    listed as broken, so it is never sent or run, whatever the database holds.
    """
    entries = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            stat = path.stat()
        except OSError as exc:
            entries.append(LibraryEntry(path, problems=[Problem(f"the file cannot be read: "
                                                                f"{exc}")]))
            continue
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _parsed.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, _read_entry(path, stat.st_size))
            _parsed[path] = cached
        entry = cached[1]
        if not programs and entry.spec is not None and entry.spec.run is not None:
            entry = LibraryEntry(path, None, [Problem(RUN_IS_ADMINS, "/run")], entry.source)
        entries.append(entry)
    return _without_duplicates(entries)


def _without_duplicates(entries: list[LibraryEntry]) -> list[LibraryEntry]:
    """A second file defining a tool name already taken is listed as broken, not as a tool:
    providers reject two tools of one name, and the page keys widgets by tool name."""
    seen: dict[str, Path] = {}
    out = []
    for entry in entries:
        if entry.spec is not None and entry.spec.name in seen:
            entry = LibraryEntry(entry.path, None, [Problem(
                f"another file ({seen[entry.spec.name].name}) already defines the tool "
                f"{entry.spec.name!r}; rename one of them", "/name")], entry.source)
        elif entry.spec is not None:
            seen[entry.spec.name] = entry.path
        out.append(entry)
    return out


def _read_entry(path: Path, size: int) -> LibraryEntry:
    entry = LibraryEntry(path=path)
    try:
        if size > MAX_TOOL_FILE_BYTES:
            raise ToolFileError([Problem(
                f"the file is larger than {MAX_TOOL_FILE_BYTES // 1000} kB")])
        entry.source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        entry.problems = [Problem(f"the file cannot be read: {exc}")]
    except ToolFileError as exc:
        entry.problems = exc.problems
    else:
        entry.spec, entry.problems = parse_tool(entry.source, "yaml")
    return entry


def path_for(directory: Path, name: str) -> Path:
    return directory / f"{name}.yaml"


def save_tool(directory: Path, spec: ToolSpec, *, replaces: Path | None = None,
              yaml_text: str | None = None, programs: bool = True) -> Path:
    """Write the tool's YAML atomically; on a rename, remove the file it replaces.

    `yaml_text`, the author's own YAML for this spec, is written as typed so comments and
    layout survive; without it the spec is dumped. `programs=False` (a person's own tools)
    refuses a `run` section before anything is written.
    """
    document = document_from_spec(spec)
    problems = [p for p in structure_problems(document) if p.severity == "error"]
    if not programs:
        problems += program_problems(document)
    if problems:
        raise ToolFileError(problems)
    directory.mkdir(parents=True, exist_ok=True)
    target = path_for(directory, spec.name)
    if target.exists() and (replaces is None or replaces.resolve() != target.resolve()):
        # {name}.yaml holds some other tool (files can be named anything): never write over it.
        target = _free_path(directory, spec.name)
    text = yaml_text if yaml_text is not None else dump_text(document_from_spec(spec), "yaml")
    if yaml_text is not None and parse_tool(yaml_text, "yaml")[0] != spec:
        # The file must hold the tool that was checked: text from another format or an older
        # draft (a page race) would otherwise overwrite a good file with something else.
        raise ToolFileError([Problem(
            "the text to be written does not hold this tool (it may still be in the other "
            "format, or from before your last edit); nothing was written. Save again.")])
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".yaml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, target)
    if replaces is not None and replaces.resolve() != target.resolve() and replaces.exists():
        replaces.unlink()
    return target


def _free_path(directory: Path, name: str) -> Path:
    n = 2
    while (directory / f"{name}-{n}.yaml").exists():
        n += 1
    return directory / f"{name}-{n}.yaml"


def delete_tool(path: Path) -> None:
    path.unlink(missing_ok=True)


def free_name(base: str, taken: set[str]) -> str:
    """`base_copy`, `base_copy2`, … — the first name not taken (for Duplicate)."""
    stem = f"{base}_copy"[:64]
    name, n = stem, 2
    while name in taken:
        name = f"{stem[:60]}{n}"
        n += 1
    return name
