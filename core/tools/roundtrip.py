"""Automatic edits that keep the user's text: Make strict, format switches and form edits change
only the lines they must.

The YAML is edited in place with ruamel.yaml's round-trip mode (comments, key order, quoting,
flow or block style and line breaks are kept): the document as it is now is merged into the
document wanted, node by node, so an unchanged value keeps its node and a diff shows exactly
the changed lines. JSON carries no comments; it is written with the indentation it had.

Only text that already passed the bounded parse (core.bounded) is handed to ruamel here.
"""

from __future__ import annotations

import difflib
import io
import itertools
import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from core.tools.schemas import Format, dump_text, parse_text, strict_document

_LIBRARY_WIDTH = 100  # where Toolsmith's own dump (and PyYAML's) folds long plain text
_NO_FOLD = 1_000_000


def _same_scalar(old: Any, new: Any) -> bool:
    """Equal as JSON values: True is not 1, 1.0 is not 1, "1" is not 1."""
    if isinstance(new, str) or isinstance(old, str):
        return isinstance(new, str) and isinstance(old, str) and str(old) == new
    if isinstance(new, bool) or isinstance(old, bool):
        return isinstance(new, bool) and isinstance(old, bool) and bool(old) == new
    if new is None or old is None:
        return new is None and old is None
    if isinstance(new, int | float) and isinstance(old, int | float):
        return old == new and isinstance(old, float) == isinstance(new, float)
    return False


def _fresh(value: Any) -> Any:
    """A new node for a value the text does not have yet: mappings in block style, lists of
    scalars in flow style (`type: [string, "null"]`, `required: [a, b]`)."""
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _fresh(item)
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(item) for item in value)
        if all(not isinstance(item, dict | list) for item in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _merge(node: Any, new: Any) -> Any:
    """`node` (from the text) changed into `new`, keeping every part of it that stays."""
    if isinstance(new, dict):
        if not isinstance(node, CommentedMap):
            return _fresh(new)
        for key in [k for k in node if k not in new]:
            del node[key]
        previous = None
        for key, value in new.items():
            if key in node:
                merged = _merge(node[key], value)
                if merged is not node[key]:
                    node[key] = merged
            else:
                keys = list(node)
                position = keys.index(previous) + 1 if previous in node else 0
                node.insert(position, key, _fresh(value))
            previous = key
        return node
    if isinstance(new, list):
        if not isinstance(node, CommentedSeq):
            return _fresh(new)
        while len(node) > len(new):
            del node[len(node) - 1]
        for index, value in enumerate(new):
            if index < len(node):
                merged = _merge(node[index], value)
                if merged is not node[index]:
                    node[index] = merged
            else:
                node.append(_fresh(value))
        return node
    if not isinstance(node, dict | list) and _same_scalar(node, new):
        return node  # keeps its quoting and style
    if isinstance(node, ScalarString) and isinstance(new, str):
        return type(node)(new)  # a changed text keeps its quotes or block style (| or >)
    return new


def _indents(text: str) -> tuple[int, int]:
    """The text's mapping indent and where its block-sequence dashes sit under their key (0 for
    `key:\n- a`, 2 for `key:\n  - a`), so new lines are indented like the old ones."""
    mapping, offset = None, None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip()
             .startswith("#")]
    for above, line in itertools.pairwise(lines):
        if not above.rstrip().endswith(":"):
            continue
        step = (len(line) - len(line.lstrip(" "))) - (len(above) - len(above.lstrip(" ").lstrip(
            "- ")))
        if line.lstrip().startswith("- "):
            offset = step if offset is None and step >= 0 else offset
        elif step > 0 and mapping is None:
            mapping = step
    return mapping or 2, offset or 0


def _changed_lines(before: str, after: str) -> int:
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(),
                                      autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
               if tag != "equal")


def _keep_original_lines(before: str, after: str, document: dict[str, Any]) -> str:
    """Give back the author's lines wherever the new text differs from them only in spacing and
    line breaks (ruamel folds plain and quoted text at its own width, and may leave a trailing
    space at a fold), as long as the text still says exactly `document`."""
    old, new = before.splitlines(), after.splitlines()
    ending = "\n" if after.endswith("\n") else ""
    hunks = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
             if op[0] != "equal"]
    for _, i1, i2, j1, j2 in reversed(hunks):  # from the end, so earlier indexes hold
        if " ".join(old[i1:i2]).split() != " ".join(new[j1:j2]).split():
            continue
        candidate = new[:j1] + old[i1:i2] + new[j2:]
        parsed, problems = parse_text("\n".join(candidate) + ending, "yaml")
        if not problems and parsed == document:
            new = candidate
    return "\n".join(new) + ending


def _yaml_rewrite(text: str, document: dict[str, Any]) -> str:
    outputs = []
    # ruamel re-emits plain text on lines of its own: where the text was folded (files Toolsmith
    # or PyYAML wrote fold near 100 columns) or not at all (authors who write long lines). Both
    # are tried; the one that changes fewer lines wins.
    longest = max((len(line) for line in text.splitlines()), default=0)
    widths = (_LIBRARY_WIDTH, _NO_FOLD) if longest > _LIBRARY_WIDTH else (_LIBRARY_WIDTH,)
    for width in widths:  # (ruamel is slow: the second only when a line is longer than 100)
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = width
        tree = yaml.load(text)
        if not isinstance(tree, CommentedMap):
            return dump_text(document, "yaml")
        mapping, offset = _indents(text)
        yaml.indent(mapping=mapping, sequence=mapping + offset, offset=offset)
        out = io.StringIO()
        yaml.dump(_merge(tree, document), out)
        outputs.append(_keep_original_lines(text, out.getvalue(), document))
    return min(outputs, key=lambda candidate: _changed_lines(text, candidate))


def _json_indent(text: str) -> int:
    match = re.search(r"\n( +)\S", text)
    return len(match.group(1)) if match else 2


def rewrite(text: str, fmt: Format, document: dict[str, Any]) -> str:
    """`text` changed to hold `document`, touching only what differs. Text that cannot be read
    back (it should not happen: callers pass text that parsed) is written out afresh."""
    if fmt == "json":
        out = json.dumps(document, indent=_json_indent(text), ensure_ascii=False)
        return out + "\n" if text.endswith("\n") or not text else out
    try:
        return _yaml_rewrite(text, document)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return dump_text(document, "yaml")  # the content is right; only the layout is new


def strict_rewrite(text: str, fmt: Format, document: dict[str, Any]) -> str:
    """The text after Make strict; a new `strict: true` goes before `parameters`."""
    wanted = strict_document(document)
    if "strict" not in document and "parameters" in wanted:
        wanted = {**{k: v for k, v in wanted.items() if k not in ("strict", "parameters",
                                                                  "results")},
                  "strict": True, "parameters": wanted["parameters"],
                  **({"results": wanted["results"]} if "results" in wanted else {})}
    return rewrite(text, fmt, wanted)
