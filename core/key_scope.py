"""Which server a configured key belongs to.

A key set in the environment or secrets was configured together with a base URL (or, without
one, for its vendor's own API, as the official SDKs assume). Typing another address in the
sidebar must not send that key there: it would hand a credential to whatever server the address
names. The key goes only to its own origin (scheme, host, port), unless the user says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from core.config import PRESETS, _reader
from core.wire import formats

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """`scheme://host:port` of a URL, lower-cased, default port spelled out; "" if none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port that is not a number
        return ""
    if not parts.scheme or not parts.hostname:
        return ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}:{port}"


def key_homes(env: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, str]:
    """The base URL each key variable's key was configured for: the base-URL variable set
    next to it, else the official API of the first format that reads that key variable."""
    get = _reader(env, secrets)
    homes: dict[str, str] = {}
    for fmt in formats():
        if fmt.key_env in homes:
            continue
        official = next((p.base_url for p in PRESETS.values()
                         if p.wire == fmt.name and p.official), "")
        homes[fmt.key_env] = get(fmt.base_url_env) or official
    return homes


def belongs(home: str, base_url: str) -> bool:
    """True when a key configured for `home` may be sent to `base_url` (same origin)."""
    return bool(origin(home)) and origin(home) == origin(base_url)
