"""Fixtures shared across the suite: the OpenAI-format wire server on a free local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.wire_server import WireServer


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A fresh server per test, so per-model fault counters and the request log start empty.

    Stopping it releases any handler still stalling, so a failed test cannot hang the run.
    """
    with WireServer() as server:
        yield server
