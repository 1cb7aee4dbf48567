"""What an MCP tools/call result becomes in Toolsmith: the text that goes into the result box
(and to the model), the images shown beside it, and the checks of structuredContent.

Content blocks are read from plain JSON (the result as the server sent it), so a stored or
imported call renders exactly like a live one.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from core.tools.schemas import Violation, argument_violations


@dataclass
class ResultImage:
    mime_type: str
    data: bytes


@dataclass
class RenderedResult:
    text: str  # what the result box is filled with
    is_error: bool
    images: list[ResultImage] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)  # uri, mime type, text/size
    structured: Any = None
    has_structured: bool = False
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # unusual shapes, said on the page


def _decoded(data: Any) -> bytes | None:
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def render_result(result: dict[str, Any], output_schema: dict[str, Any] | None = None,
                  ) -> RenderedResult:
    """The result box text and the parts shown apart; never raises on an odd shape."""
    content = result.get("content")
    blocks = content if isinstance(content, list) else []
    out = RenderedResult(text="", is_error=bool(result.get("isError")))
    parts: list[str] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            out.notes.append(f"content block {index} is not an object; it was skipped")
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind in ("image", "audio"):
            data = _decoded(block.get("data"))
            mime = str(block.get("mimeType") or "application/octet-stream")
            if data is None:
                out.notes.append(f"{kind} block {index} does not carry valid base64 data")
                continue
            if kind == "image":
                out.images.append(ResultImage(mime, data))
            parts.append(f"[{kind}: {mime}, {len(data):,} bytes]")
        elif kind == "resource":
            found = block.get("resource")
            resource: dict[str, Any] = found if isinstance(found, dict) else {}
            uri = str(resource.get("uri", "?"))
            resource_mime = resource.get("mimeType")
            if isinstance(resource.get("text"), str):
                out.resources.append({"uri": uri, "mimeType": resource_mime,
                                      "text": resource["text"]})
                parts.append(f"[resource {uri}]\n{resource['text']}")
            else:
                data = _decoded(resource.get("blob"))
                size = len(data) if data is not None else 0
                out.resources.append({"uri": uri, "mimeType": resource_mime, "bytes": size})
                if data is not None and str(resource_mime or "").startswith("image/"):
                    out.images.append(ResultImage(str(resource_mime), data))
                parts.append(f"[resource {uri}: {mime or 'binary'}, {size:,} bytes]")
        elif kind == "resource_link":
            uri = str(block.get("uri", "?"))
            out.resources.append({"uri": uri, "mimeType": block.get("mimeType"),
                                  "link": True, "name": block.get("name")})
            parts.append(f"[resource link {uri}"
                         f"{' (' + str(block['name']) + ')' if block.get('name') else ''}]")
        else:
            out.notes.append(f"content block {index} has the unknown type {kind!r}; shown raw")
            parts.append(json.dumps(block, ensure_ascii=False))
    if "structuredContent" in result and result["structuredContent"] is not None:
        out.has_structured = True
        out.structured = result["structuredContent"]
        if not parts:  # the structure is the answer
            parts.append(json.dumps(out.structured, indent=2, ensure_ascii=False))
        if output_schema and not out.is_error:
            out.violations = argument_violations(out.structured, output_schema)
    elif output_schema and not out.is_error:
        out.notes.append("the tool declares an output schema but the result carries no "
                         "structuredContent")
    if content is not None and not isinstance(content, list):
        out.notes.append("`content` is not a list")
    out.text = "\n\n".join(parts) if parts else ""
    return out
