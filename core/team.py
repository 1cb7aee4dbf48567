"""Local or team mode, from the configuration: who may sign in, who is an admin, where requests
may go.

One switch: an `[auth]` section in `.streamlit/secrets.toml` (Streamlit's own OpenID Connect
settings) turns team mode on. Toolsmith reads three optional lists next to Streamlit's keys in
that section (`allowed_domains`, `allowed_emails`, `admins`) and the admin's list of servers
from `[egress]` (`allowed_servers`: preset names, base URLs, `host:port`; `only_listed`).
Without `[auth]` nothing here applies and the app runs as a single-user local tool.
`TOOLSMITH_EGRESS=restricted` applies the egress policy without sign-in (a server behind its
own authenticating proxy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.config import PRESETS
from core.egress import EgressPolicy, parse_entries


def _lower_set(value: Any) -> frozenset[str]:
    return frozenset(entry.strip().lower() for entry in parse_entries(value) if entry.strip())


@dataclass(frozen=True)
class TeamSettings:
    enabled: bool = False
    admins: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    allowed_emails: frozenset[str] = frozenset()
    egress: EgressPolicy = field(default_factory=EgressPolicy)

    def may_enter(self, email: str | None) -> bool:
        """With neither allowed_domains nor allowed_emails set, anyone the identity provider
        signs in may enter; admins always may."""
        if not self.enabled:
            return True
        address = (email or "").strip().lower()
        if not (self.allowed_domains or self.allowed_emails):  # admins alone restrict nothing
            return bool(address)
        domain = address.rpartition("@")[2]
        return bool(address) and (address in self.allowed_emails or address in self.admins
                                   or domain in self.allowed_domains)

    def is_admin(self, email: str | None) -> bool:
        """In local mode the one user is the admin of their own machine."""
        if not self.enabled:
            return True
        return (email or "").strip().lower() in self.admins


def server_entries(value: Any) -> list[str]:
    """allowed_servers with preset names replaced by their base URLs."""
    entries = []
    for entry in parse_entries(value):
        name = entry.strip()
        preset = PRESETS.get(name)
        entries.append(preset.base_url if preset is not None and preset.base_url else name)
    return entries


def team_settings(env: Mapping[str, str], secrets: Mapping[str, Any]) -> TeamSettings:
    """Raises ValueError for an allowed_servers entry that is not an address."""
    auth = secrets.get("auth")
    enabled = isinstance(auth, Mapping) and bool(auth)
    egress_section = secrets.get("egress")
    egress_cfg: Mapping[str, Any] = egress_section if isinstance(egress_section, Mapping) else {}
    restricted = enabled or env.get("TOOLSMITH_EGRESS", "").strip().lower() == "restricted"
    policy = EgressPolicy()
    if restricted:
        listed = server_entries(egress_cfg.get("allowed_servers")
                                or env.get("TOOLSMITH_ALLOWED_SERVERS"))
        only = egress_cfg.get("only_listed")
        policy = EgressPolicy.team(listed, only_listed=None if only is None else bool(only))
    if not enabled:
        return TeamSettings(egress=policy)
    assert isinstance(auth, Mapping)
    return TeamSettings(True, _lower_set(auth.get("admins")),
                        frozenset(d.lstrip("@") for d in _lower_set(auth.get("allowed_domains"))),
                        _lower_set(auth.get("allowed_emails")), policy)
