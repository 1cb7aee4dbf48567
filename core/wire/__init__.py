"""Wire formats: one `WireFormat` object per format (see core/wire/base.py), registered here.

Everything format-specific is asked of the format, so adding one is a module and a line below.
`wire_format(name)` raises `UnknownWireFormat` for a name nobody registered (a stored exchange
from a newer version, a typo in TOOLSMITH_WIRE_FORMAT): guessing a format would send a body the
server cannot read.
"""

from __future__ import annotations

from core.wire.base import Registry, UnknownWireFormat, WireFormat

__all__ = ["UnknownWireFormat", "WireFormat", "formats", "wire_format"]

_REGISTRY = Registry()


def _register() -> None:
    from core.wire import anthropic_messages, openai_chat, openai_responses

    for module in (openai_chat, openai_responses, anthropic_messages):
        _REGISTRY.add(module.FORMAT)


def wire_format(name: str) -> WireFormat:
    if not _REGISTRY.formats:
        _register()
    return _REGISTRY.get(name)


def find(name: str | None) -> WireFormat | None:
    """The format of that name, or None (a recorded exchange of a tool run, not a model)."""
    if not _REGISTRY.formats:
        _register()
    return _REGISTRY.formats.get(name or "")


def formats() -> list[WireFormat]:
    """Every registered format, in the order the app offers them."""
    if not _REGISTRY.formats:
        _register()
    return list(_REGISTRY.formats.values())


def names() -> list[str]:
    return [fmt.name for fmt in formats()]
