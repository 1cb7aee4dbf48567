"""The Tools page's form: a schema's objects as a tree of tables, one row per property, and the
round trip table ⇄ JSON Schema.

A row shows a property's type (nullable: a union with "null"), item type for arrays,
description, required, enum, default, minimum, maximum, minLength, maxLength, pattern and
format. An object property, and an array of objects, get a table of their own below their row
(a `Level`). Everything else a schema holds is left untouched and named by `not_shown`, and a
cell the user did not change gives back the original value as it was, so the form can be used
on any schema without losing a keyword.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import Any

SCALAR_TYPES = ("string", "number", "integer", "boolean")
FORM_TYPES = (*SCALAR_TYPES, "object", "array")
ITEM_TYPES = ("", *SCALAR_TYPES, "object")
OTHER = "(as written)"  # a type the form cannot show: kept as the text has it
TEXT_COLUMNS = ("description", "enum", "default", "pattern", "format")
NUMBER_COLUMNS = ("minimum", "maximum", "minLength", "maxLength")
COLUMNS = ("name", "type", "nullable", "items", "description", "required", "enum", "default",
           *NUMBER_COLUMNS, "pattern", "format")
KEY = "_key"  # hidden column: the property a row came from, so a rename keeps the rest
_SHOWN = {"type", "description", "enum", "default", "pattern", "format", *NUMBER_COLUMNS}


# --- The tree of objects ---------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """One object of the schema shown as a table: where it is (keys from `parameters`), a
    label for people, and its depth in the tree."""

    path: tuple[str, ...]
    label: str
    depth: int


def object_at(parameters: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = parameters
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def with_object_at(parameters: dict[str, Any], path: tuple[str, ...],
                   value: dict[str, Any]) -> dict[str, Any]:
    """A copy of `parameters` with the object at `path` replaced."""
    if not path:
        return value
    out = copy.deepcopy(parameters)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _type_of(schema: dict[str, Any]) -> tuple[str, bool]:
    """(form type, nullable); OTHER when the type is not one the form shows."""
    kind = schema.get("type")
    if isinstance(kind, str) and kind in FORM_TYPES:
        return kind, False
    if isinstance(kind, list) and "null" in kind:
        others = [k for k in kind if k != "null"]
        if len(others) == 1 and len(kind) == 2 and others[0] in FORM_TYPES:
            return others[0], True
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object", False
    return OTHER, False


def _children(schema: dict[str, Any], path: tuple[str, ...], label: str, depth: int,
              ) -> list[Level]:
    levels = []
    properties = schema.get("properties")
    for name, sub in (properties.items() if isinstance(properties, dict) else ()):
        if not isinstance(sub, dict):
            continue
        kind, _ = _type_of(sub)
        where = (*path, "properties", name)
        shown = f"{label}.{name}" if label else name
        if kind == "object":
            levels.append(Level(where, shown, depth + 1))
            levels.extend(_children(sub, where, shown, depth + 1))
        items = sub.get("items")
        if kind == "array" and isinstance(items, dict) and _type_of(items)[0] == "object":
            levels.append(Level((*where, "items"), f"{shown}[]", depth + 1))
            levels.extend(_children(items, (*where, "items"), f"{shown}[]", depth + 1))
    return levels


def levels(parameters: dict[str, Any]) -> list[Level]:
    """Every object the form shows as a table, the top first, each followed by its own."""
    return [Level((), "", 0), *_children(parameters, (), "", 0)]


# --- What the form leaves as written -----------------------------------------------------

def not_shown(parameters: dict[str, Any]) -> list[str]:
    """Pointers (under /parameters) of what the form does not show; it stays as written."""
    out: list[str] = []
    for level in levels(parameters):
        schema = object_at(parameters, level.path)
        if not isinstance(schema, dict):
            continue
        base = "".join(f"/{_escape(k)}" for k in level.path)
        if not level.path or level.path[-1] == "items":  # a property's own keys: see below
            structural = {"type", "properties", "required", "additionalProperties"}
            out.extend(f"{base}/{_escape(k)}" for k in schema if k not in structural)
        required = schema.get("required", [])
        if not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
            out.append(f"{base}/required")
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            out.append(f"{base}/properties")
            continue
        for name, sub in properties.items():
            at = f"{base}/properties/{_escape(name)}"
            if not isinstance(sub, dict):
                out.append(at)
                continue
            kind, _ = _type_of(sub)
            if kind == OTHER:
                out.append(f"{at}/type" if "type" in sub else at)
            structural = {"properties", "required", "additionalProperties"} \
                if kind == "object" else {"items"} if kind == "array" else set()
            out.extend(f"{at}/{_escape(k)}" for k in sub
                       if k not in _SHOWN and k not in structural)
            items = sub.get("items")
            if kind == "array" and items is not None:
                item_kind = _type_of(items)[0] if isinstance(items, dict) else OTHER
                if item_kind not in ITEM_TYPES:
                    out.append(f"{at}/items")
                elif item_kind != "object":
                    out.extend(f"{at}/items/{_escape(k)}" for k in items if k != "type")
            enum = sub.get("enum")
            if isinstance(enum, list) and any("," in str(v) for v in enum):
                out.append(f"{at}/enum (values with commas)")
    return out


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


# --- Rows ----------------------------------------------------------------------------------

def _text(value: Any) -> str:
    """A value as the form writes it: strings as they are, other values as JSON."""
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _number(value: Any) -> float | int | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return value if ok else None


def row_of(name: str, sub: Any, required: bool) -> dict[str, Any]:
    sub = sub if isinstance(sub, dict) else {}
    kind, nullable = _type_of(sub)
    items = sub.get("items")
    item_kind = _type_of(items)[0] if isinstance(items, dict) else ""
    enum = sub.get("enum")
    row = {
        "name": name, "type": kind, "nullable": nullable,
        "items": item_kind if item_kind in ITEM_TYPES else "",
        "description": sub.get("description") if isinstance(sub.get("description"), str)
        else "",
        "required": required,
        "enum": ", ".join(_text(v) for v in enum) if isinstance(enum, list) else "",
        "default": _text(sub["default"]) if "default" in sub else "",
        "pattern": sub.get("pattern") if isinstance(sub.get("pattern"), str) else "",
        "format": sub.get("format") if isinstance(sub.get("format"), str) else "",
        KEY: name,
    }
    for column in NUMBER_COLUMNS:
        row[column] = _number(sub.get(column))
    return {column: row[column] for column in (*COLUMNS, KEY)}


def rows_from_object(schema: Any) -> list[dict[str, Any]]:
    """The table of one object's properties; a schema of an odd shape gives what rows it can
    (not_shown names the rest)."""
    if not isinstance(schema, dict):
        return []
    required = schema.get("required")
    names = {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
    properties = schema.get("properties")
    return [row_of(name, sub, name in names)
            for name, sub in (properties.items() if isinstance(properties, dict) else ())]


def _typed(text: str, kind: str, nullable: bool) -> Any:
    """A value typed in a cell, as the row's type (text that is not one stays text, so the
    checks can point at it)."""
    if nullable and text == "null":
        return None
    if kind in ("integer", "number", "boolean", "object", "array", OTHER):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if kind == "integer" and isinstance(value, float) and value.is_integer() \
                and "." not in text:
            return int(value)
        return value
    return text


def _cell_number(value: Any) -> Any:
    """A number cell's value: None when empty; whole floats as integers (2.0 -> 2)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value or None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def property_from_row(row: dict[str, Any], original: Any) -> dict[str, Any]:
    """One property from its row. Cells left as they were keep the original values as they
    were; the keywords the form does not show are carried over."""
    before = row_of(str(row.get(KEY) or ""), original, False)
    out: dict[str, Any] = copy.deepcopy(original) if isinstance(original, dict) else {}
    kind = str(row.get("type") or "string")
    nullable = bool(row.get("nullable"))

    def changed(column: str) -> bool:
        return original is None or row.get(column) != before.get(column)

    if changed("type") or changed("nullable"):
        if kind != OTHER:
            out["type"] = [kind, "null"] if nullable else kind
        if kind != "object":
            for key in ("properties", "required", "additionalProperties"):
                out.pop(key, None)
        if kind != "array":
            out.pop("items", None)
    if kind == "array" and changed("items"):
        item = str(row.get("items") or "")
        if item:
            current = out.get("items")
            items = current if isinstance(current, dict) else {}
            out["items"] = {**items, "type": item}
        else:
            out.pop("items", None)
    for column in TEXT_COLUMNS:
        if not changed(column):
            continue
        text = str(row.get(column) or "").strip()
        if not text:
            out.pop(column, None)
        elif column == "enum":
            out["enum"] = [_typed(v.strip(), kind, nullable) for v in text.split(",")
                           if v.strip()]
        elif column == "default":
            out["default"] = _typed(text, kind, nullable)
        else:
            out[column] = text
    for column in NUMBER_COLUMNS:
        if not changed(column):
            continue
        value = _cell_number(row.get(column))
        if value is None:
            out.pop(column, None)
        else:
            out[column] = value
    return out


def object_from_rows(rows: list[dict[str, Any]], original: Any) -> dict[str, Any]:
    """An object schema rebuilt from its table; its other keywords are carried over."""
    original = original if isinstance(original, dict) else {}
    old_properties = original.get("properties")
    old_properties = old_properties if isinstance(old_properties, dict) else {}
    properties: dict[str, Any] = {}
    required = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        if not name or name in properties:  # a second row of one name: the first wins
            continue
        key = row.get(KEY)
        properties[name] = property_from_row(row, old_properties.get(key) if key else None)
        if row.get("required"):
            required.append(name)
    out = {k: v for k, v in original.items() if k not in ("properties", "required")}
    if "type" not in out and not isinstance(original.get("type"), list):
        out["type"] = "object"
    out["properties"] = properties
    old_required = original.get("required")
    if required or isinstance(old_required, list):
        out["required"] = required
    order = list(original) or ["type", "properties", "required"]
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                       else len(order)))


def duplicate_names(rows: list[dict[str, Any]]) -> list[str]:
    """Names given to more than one row (only the first of each is kept)."""
    seen: set[str] = set()
    twice = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def apply_editor_delta(rows: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply st.data_editor's {"edited_rows", "added_rows", "deleted_rows"} to the rows."""
    out = [dict(row) for row in rows]
    for index, changes in (delta.get("edited_rows") or {}).items():
        position = int(index)
        if 0 <= position < len(out):
            out[position].update(changes)
    for position in sorted(delta.get("deleted_rows") or [], reverse=True):
        if 0 <= position < len(out):
            del out[position]
    for added in delta.get("added_rows") or []:
        blank = {"name": "", "type": "string", "nullable": False, "items": "",
                 "required": False, KEY: None, **dict.fromkeys(TEXT_COLUMNS, ""),
                 **dict.fromkeys(NUMBER_COLUMNS)}
        out.append({**blank, **added})
    return out
