"""The demo model's `POST …/images/generations`: a small PNG drawn from the prompt, so the
shipped `generate_image` HTTP tool runs offline (OpenAI's images response shape)."""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from typing import Any

SIZE = 64


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_for(prompt: str, size: int = SIZE) -> bytes:
    """A deterministic two-colour gradient with a diagonal band, coloured by the prompt."""
    digest = hashlib.sha256(prompt.encode()).digest()
    top, bottom = digest[:3], digest[3:6]
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            mix = y / (size - 1)
            pixel = [round(a * (1 - mix) + b * mix) for a, b in zip(top, bottom, strict=True)]
            if abs(x - y) < size // 8:
                pixel = [255 - v for v in pixel]
            row.extend(pixel)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def images_response(body: Any) -> dict[str, Any]:
    prompt = str(body.get("prompt", "")) if isinstance(body, dict) else ""
    return {"created": int(time.time()), "data": [{
        "b64_json": base64.b64encode(png_for(prompt)).decode(),
        "revised_prompt": f"{prompt} (drawn offline by the demo model: a {SIZE}x{SIZE} "
                          "gradient, not a real picture)"}]}
