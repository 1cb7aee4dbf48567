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
        if enum is not None and not (isinstance(enum, list)
                                     and all(isinstance(v, str) for v in enum)):
            reasons.append(f"'{name}' has a non-text enum")
        elif enum and any("," in v or v != v.strip() for v in enum):
            reasons.append(f"'{name}' has enum values with commas or outer spaces")
    return reasons


def rows_from_parameters(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(parameters.get("required") or [])
    rows = []
    for name, sub in (parameters.get("properties") or {}).items():
        sub = sub if isinstance(sub, dict) else {}
        rows.append({
            "name": name,
            "type": sub.get("type") if sub.get("type") in FORM_TYPES else "string",
            "description": sub.get("description", ""),
            "required": name in required,
            "enum": ", ".join(sub.get("enum") or []),
        })
    return rows


def parameters_from_rows(rows: list[dict[str, Any]], original: dict[str, Any]) -> dict[str, Any]:
    """Parameters rebuilt from the table; keywords the form does not show are carried over."""
    properties: dict[str, Any] = {}
    required = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        if not name:
            continue
        sub: dict[str, Any] = {"type": row.get("type") or "string"}
        if str(row.get("description") or "").strip():
            sub["description"] = str(row["description"]).strip()
        enum = [v.strip() for v in str(row.get("enum") or "").split(",") if v.strip()]
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
