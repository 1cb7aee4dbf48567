"""The parameter table of the Tools page's form builder, and its round trip to JSON Schema.

The form can express a flat object of scalar parameters (name, type, description, required,
enum). Anything beyond that is reported, so the page can say so instead of dropping it.
"""

from __future__ import annotations

from typing import Any

FORM_TYPES = ("string", "number", "integer", "boolean")
_TOP_KEYS = {"type", "properties", "required", "additionalProperties"}
_PROP_KEYS = {"type", "description", "enum"}
COLUMNS = ("name", "type", "description", "required", "enum")


def beyond_form(parameters: dict[str, Any]) -> list[str]:
    """What in `parameters` the form cannot show; [] when it can show everything."""
    reasons = [f"top-level keyword '{k}'" for k in parameters if k not in _TOP_KEYS]
    required = parameters.get("required", [])
    if not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
        reasons.append("required is not a list of names")
    props = parameters.get("properties") or {}
    if not isinstance(props, dict):
        return [*reasons, "properties is not a mapping"]
    for name, sub in props.items():
        if not isinstance(sub, dict):
            reasons.append(f"'{name}' is not a schema object")
            continue
        extra = [k for k in sub if k not in _PROP_KEYS]
        if extra:
            reasons.append(f"'{name}' uses {', '.join(extra)}")
        if sub.get("type") not in FORM_TYPES:
            reasons.append(f"'{name}' has type {sub.get('type')!r}")
        enum = sub.get("enum")
        if enum is not None and not (isinstance(enum, list) and all(
                _enum_text(v, sub.get("type")) is not None for v in enum)):
            reasons.append(f"'{name}' has enum values of another type than {sub.get('type')!r}")
        elif enum and any("," in str(v) or str(v) != str(v).strip() for v in enum):
            reasons.append(f"'{name}' has enum values with commas or outer spaces")
    return reasons


def rows_from_parameters(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's rows; a schema of an odd shape gives what rows it can (beyond_form says
    what the form cannot show)."""
    required = parameters.get("required")
    required = {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()
    properties = parameters.get("properties")
    rows = []
    for name, sub in (properties.items() if isinstance(properties, dict) else ()):
        sub = sub if isinstance(sub, dict) else {}
        enum = sub.get("enum")
        kind = sub.get("type")
        rows.append({
            "name": name,
            "type": kind if isinstance(kind, str) and kind in FORM_TYPES else "string",
            "description": str(sub.get("description", "")),
            "required": name in required,
            "enum": ", ".join(_enum_text(v, kind) or str(v) for v in enum)
            if isinstance(enum, list) else "",
        })
    return rows


def _enum_text(value: Any, kind: Any) -> str | None:
    """How an enum value of a `kind` property is written in the form; None if it is not
    of that kind (the form cannot show it)."""
    if kind == "boolean":
        return ("true" if value else "false") if isinstance(value, bool) else None
    if kind in ("number", "integer"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return str(value) if ok and (kind == "number" or isinstance(value, int)) else None
    return value if isinstance(value, str) else None


def _enum_value(text: str, kind: str) -> Any:
    """An enum value typed in the form, as the row's type (text that is not one stays text,
    so the metaschema and strict checks can point at it)."""
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
    except ValueError:
        return text
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


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


def parameters_from_rows(rows: list[dict[str, Any]], original: dict[str, Any]) -> dict[str, Any]:
    """Parameters rebuilt from the table; keywords the form does not show are carried over."""
    properties: dict[str, Any] = {}
    required = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        if not name or name in properties:  # a second row of one name: the first wins
            continue
        kind = str(row.get("type") or "string")
        sub: dict[str, Any] = {"type": kind}
        if str(row.get("description") or "").strip():
            sub["description"] = str(row["description"]).strip()
        enum = [_enum_value(v.strip(), kind) for v in str(row.get("enum") or "").split(",")
                if v.strip()]
        if enum:
            sub["enum"] = enum
        properties[name] = sub
        if row.get("required"):
            required.append(name)
    out = {k: v for k, v in original.items() if k not in ("properties", "required")}
    out["type"] = "object"
    out["properties"] = properties
    if required:
        out["required"] = required
    return out


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
        out.append({"name": "", "type": "string", "description": "", "required": False,
                    "enum": "", **added})
    return out
