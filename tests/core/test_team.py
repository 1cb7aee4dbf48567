"""Local or team mode from the configuration: sign-in lists, admins, the egress policy."""

from __future__ import annotations

import pytest

from core.egress import Allowed
from core.team import team_settings

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "toolsmith", "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def test_without_auth_it_is_local_mode_and_nothing_is_restricted() -> None:
    found = team_settings({}, {"OPENAI_API_KEY": "sk-x", "egress": {"allowed_servers": ["x"]}})
    assert not found.enabled and not found.egress.restricted
    assert found.may_enter(None) and found.is_admin(None)


def test_auth_turns_team_mode_on_with_lists() -> None:
    found = team_settings({}, {"auth": {**AUTH, "admins": ["Lead@Example.com"],
                                        "allowed_domains": ["@example.com"],
                                        "allowed_emails": "guest@partner.org, x@y.z"}})
    assert found.enabled and found.egress.restricted and not found.egress.only_listed
    assert found.may_enter("someone@EXAMPLE.com") and found.may_enter("guest@partner.org")
    assert not found.may_enter("someone@example.com.evil.org")
    assert not found.may_enter("") and not found.may_enter(None)
    assert found.is_admin("lead@example.com") and not found.is_admin("someone@example.com")


def test_without_lists_anyone_the_provider_signs_in_may_enter() -> None:
    found = team_settings({}, {"auth": AUTH})
    assert found.may_enter("anyone@anywhere.org") and not found.may_enter("")
    assert not found.is_admin("anyone@anywhere.org")
    with_admins = team_settings({}, {"auth": {**AUTH, "admins": ["lead@example.com"]}})
    assert with_admins.may_enter("anyone@anywhere.org")
    only = team_settings({}, {"auth": {**AUTH, "admins": ["lead@x.org"],
                                       "allowed_emails": ["a@y.org"]}})
    assert only.may_enter("lead@x.org") and not only.may_enter("b@y.org")


def test_allowed_servers_take_presets_and_urls() -> None:
    found = team_settings({}, {"auth": AUTH, "egress": {
        "allowed_servers": ["openai", "anthropic", "http://127.0.0.1:11434"]}})
    assert found.egress.only_listed
    assert found.egress.allowed == (Allowed("api.openai.com", 443, "https"),
                                    Allowed("api.anthropic.com", 443, "https"),
                                    Allowed("127.0.0.1", 11434, "http"))
    open_list = team_settings({}, {"auth": AUTH, "egress": {"allowed_servers": ["ollama"],
                                                            "only_listed": False}})
    assert not open_list.egress.only_listed
    assert open_list.egress.allowed == (Allowed("localhost", 11434, "http"),)


def test_the_environment_can_restrict_egress_without_sign_in() -> None:
    found = team_settings({"TOOLSMITH_EGRESS": "restricted",
                           "TOOLSMITH_ALLOWED_SERVERS": "llm.internal:8000"}, {})
    assert not found.enabled and found.egress.restricted and found.egress.only_listed


def test_a_bad_entry_is_an_error() -> None:
    with pytest.raises(ValueError, match="names no host"):
        team_settings({}, {"auth": AUTH, "egress": {"allowed_servers": ["http://"]}})
