"""HTTP clients shared across reruns and sessions (connection pools are worth keeping)."""

from __future__ import annotations

import os

import httpx
import streamlit as st

from core.config import Endpoint
from core.turn import client_for as make_client
from core.wire.http import Timeouts


@st.cache_resource(show_spinner=False)
def _client(demo: bool, timeouts: Timeouts, demo_delay: float) -> httpx.Client:
    return make_client(timeouts, demo=demo, demo_delay=demo_delay)


def demo_delay() -> float:
    """Seconds between the demo model's stream chunks, so it streams like a real server."""
    try:
        return float(os.environ.get("TOOLSMITH_DEMO_DELAY", "0.02"))
    except ValueError:
        return 0.02


def client_for(endpoint: Endpoint) -> httpx.Client:
    delay = demo_delay() if endpoint.is_demo else 0.0
    return _client(endpoint.is_demo, endpoint.timeouts, delay)
