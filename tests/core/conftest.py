"""Core tests talk only to 127.0.0.1: any other host name is refused before a DNS lookup.

This is a guard, not a mock: a test that reached the network would be slow, flaky and
dependent on the machine it runs on, so it should fail loudly instead.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost"})


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL_HOSTS:
            raise OSError(f"tests/core must not reach the network (asked for {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    yield
