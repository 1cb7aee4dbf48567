"""Where in the text a problem is: a syntax error's line and column, or a schema problem's JSON
pointer, turned into the character range the editor marks.

A pointer is resolved on the document's own nodes (PyYAML's composer for YAML, a small
position-keeping reader for JSON), so the mark sits on the exact key or value. A pointer to
something that is missing (`/parameters/type` when there is no `type`) marks the key of the
nearest ancestor that exists, where the user has to add it. Offsets are UTF-16 code units,
which is how the browser's editor counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.tools.schemas import Format, Problem


@dataclass
class Span:
    """A node of the document: its value's range, its key's range (for a mapping entry) and its
    children by key or index."""

    start: int
    end: int
    key_start: int | None = None
    key_end: int | None = None
    children: dict[Any, Span] = field(default_factory=dict)
    container: bool = False


@dataclass(frozen=True)
class Mark:
    """A problem with its range in the text (UTF-16 offsets), as the editor draws it."""

    start: int
    end: int
    severity: str
    message: str
    where: str

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.end, "severity": self.severity,
                "message": self.message, "where": self.where}


# --- The document's nodes ------------------------------------------------------------------

def _yaml_span(node: yaml.Node) -> Span:
    span = Span(node.start_mark.index, node.end_mark.index)
    if isinstance(node, yaml.MappingNode):
        span.container = True
        for key, value in node.value:
            child = _yaml_span(value)
            child.key_start, child.key_end = key.start_mark.index, key.end_mark.index
            span.children[str(key.value)] = child
    elif isinstance(node, yaml.SequenceNode):
        span.container = True
        for index, item in enumerate(node.value):
            span.children[index] = _yaml_span(item)
    return span


_WS = " \t\r\n"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _json_span(text: str, i: int) -> tuple[Span, int]:
    i = _skip(text, i)
    if i < len(text) and text[i] in "{[":
        closing = "}" if text[i] == "{" else "]"
        span = Span(i, i, container=True)
        j = _skip(text, i + 1)
        index = 0
        while j < len(text) and text[j] != closing:
            if closing == "}":
                key_start = j
                key, j = json.decoder.scanstring(text, j + 1)  # type: ignore[attr-defined]
                key_end = j
                j = _skip(text, j) + 1  # the ':'
                child, j = _json_span(text, j)
                child.key_start, child.key_end = key_start, key_end
                span.children[key] = child
            else:
                child, j = _json_span(text, j)
                span.children[index] = child
                index += 1
            j = _skip(text, j)
            if j < len(text) and text[j] == ",":
                j = _skip(text, j + 1)
        span.end = j + 1
        return span, j + 1
    _, end = json.JSONDecoder().raw_decode(text, i)
    return Span(i, end), end


def document_spans(text: str, fmt: Format) -> Span | None:
    """The node tree of a document that parses; None when it cannot be read."""
    try:
        if fmt == "json":
            return _json_span(text, 0)[0]
        node = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes only: nothing is constructed
        return _yaml_span(node) if node is not None else None
    except (yaml.YAMLError, ValueError, IndexError, RecursionError):
        return None


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _pointer_range(root: Span, pointer: str) -> tuple[int, int]:
    node, parts = root, [_unescape(p) for p in pointer.split("/")[1:]] if pointer else []
    for part in parts:
        key: Any = part if part in node.children else int(part) if part.isdigit() else part
        child = node.children.get(key)
        if child is None:
            break  # missing: point at where it belongs
        node = child
    else:
        if not node.container:  # a scalar: its key and value together
            start = node.key_start if node.key_start is not None else node.start
            return start, node.end
    if node.key_start is not None and node.key_end is not None:
        return node.key_start, node.key_end
    return node.start, node.start + 1


# --- Problems to marks ---------------------------------------------------------------------

def _line_range(text: str, line: int, column: int | None) -> tuple[int, int]:
    """From the error's column to the end of its line (the whole line when the column is at
    its end); 1-based line and column as the parsers report them."""
    lines = text.splitlines(keepends=True) or [""]
    line = min(max(line, 1), len(lines))
    start = sum(len(t) for t in lines[:line - 1])
    body = lines[line - 1].rstrip("\r\n")
    col = min(max((column or 1) - 1, 0), len(body))
    if col >= len(body.rstrip()) and body.strip():
        return start, start + len(body)
    return start + col, start + len(body)


def _utf16(text: str, index: int) -> int:
    return index if text.isascii() else len(text[:index].encode("utf-16-le")) // 2


def marks(text: str, fmt: Format, problems: list[Problem], parsed: bool = True) -> list[Mark]:
    """Each problem with the range of text it is about, in the editor's offsets. `parsed`:
    whether the text passed the bounded parse (only then are its nodes walked for pointers)."""
    spans = document_spans(text, fmt) if parsed and problems else None
    out = []
    for problem in problems:
        if problem.line is not None:
            start, end = _line_range(text, problem.line, problem.column)
        elif spans is not None:
            start, end = _pointer_range(spans, problem.pointer)
        else:
            start, end = _line_range(text, 1, 1)
        out.append(Mark(_utf16(text, start), _utf16(text, end), problem.severity,
                        problem.message, problem.where()))
    return out
