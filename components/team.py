"""Team mode on the page: the process's egress policy from the configuration."""

from __future__ import annotations

import logging
import os

import streamlit as st

from components.state import secrets as read_secrets
from core import egress
from core.team import TeamSettings, team_settings

log = logging.getLogger("toolsmith")


def settings() -> TeamSettings:
    """The team settings; an unreadable allowed_servers refuses every request until fixed."""
    try:
        found = team_settings(os.environ, read_secrets())
    except ValueError as exc:
        log.error("Team configuration: %s", exc)
        found = TeamSettings(enabled=True, egress=egress.EgressPolicy(True, (), True))
        st.error(f"The server's configuration cannot be read: {exc}. No request leaves this "
                 "server until an admin fixes it.", icon="🚫")
    return found


def apply() -> TeamSettings:
    """Set the process's egress policy (every run: the secrets file may have changed)."""
    found = settings()
    if found.egress != egress.current():
        egress.set_policy(found.egress)
    return found
