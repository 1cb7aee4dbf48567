"""Where requests go: the endpoint chosen at start, its URLs and headers, and key hygiene.

A visitor with no key must land on the demo; a configured key must never show up in a repr,
a stored header, or an error text.
"""

from __future__ import annotations

import dataclasses

import pytest

from core.config import (
    DEMO_BASE_URL,
    DEMO_MODEL,
    PRESETS,
    Endpoint,
    initial_endpoint,
    masked_headers,
    preset_for_url,
)
from core.wire.errors import ConfigError

KEY = "sk-test-MARKER-0a1b2c3d4e5f"


# --- initial_endpoint -------------------------------------------------------------------------


def test_no_key_anywhere_means_the_demo() -> None:
    endpoint = initial_endpoint({}, {})
    assert (endpoint.preset, endpoint.base_url, endpoint.model) == (
        "demo", DEMO_BASE_URL, DEMO_MODEL)
    assert endpoint.is_demo and endpoint.provider == "demo"
    assert endpoint.api_key == ""
    assert endpoint.problem() is None


def test_a_key_means_openai_with_its_default_model() -> None:
    endpoint = initial_endpoint({"OPENAI_API_KEY": KEY}, {})
    assert (endpoint.preset, endpoint.base_url, endpoint.model) == (
        "openai", "https://api.openai.com/v1", PRESETS["openai"].default_model)
    assert endpoint.api_key == KEY
    assert endpoint.key_env == "OPENAI_API_KEY"
    assert not endpoint.is_demo and endpoint.wire == "openai"
    assert endpoint.provider == "api.openai.com"  # who serves it, not the format


def test_key_in_secrets_works_like_the_environment() -> None:
    assert initial_endpoint({}, {"OPENAI_API_KEY": KEY}).api_key == KEY


def test_secrets_win_over_the_environment() -> None:
    endpoint = initial_endpoint(
        {"OPENAI_API_KEY": "sk-env", "OPENAI_MODEL": "env-model"},
        {"OPENAI_API_KEY": KEY, "OPENAI_MODEL": "secret-model"})
    assert (endpoint.api_key, endpoint.model) == (KEY, "secret-model")


def test_empty_secret_falls_back_to_the_environment() -> None:
    assert initial_endpoint({"OPENAI_API_KEY": KEY}, {"OPENAI_API_KEY": ""}).api_key == KEY


def test_values_are_stripped() -> None:
    endpoint = initial_endpoint({"OPENAI_API_KEY": f"  {KEY}\n",
                                 "OPENAI_MODEL": " gpt-4o ",
                                 "OPENAI_BASE_URL": " https://api.openai.com/v1/ "}, {})
    assert (endpoint.api_key, endpoint.model, endpoint.preset) == (KEY, "gpt-4o", "openai")


def test_openai_model_is_honoured() -> None:
    assert initial_endpoint({"OPENAI_API_KEY": KEY, "OPENAI_MODEL": "o4-mini"}, {}).model == (
        "o4-mini")


@pytest.mark.parametrize("value", ["demo", "DEMO", " Demo "])
def test_toolsmith_provider_demo_forces_the_demo_even_with_a_key(value: str) -> None:
    endpoint = initial_endpoint({"OPENAI_API_KEY": KEY, "TOOLSMITH_PROVIDER": value,
                                 "OPENAI_BASE_URL": "https://api.openai.com/v1"}, {})
    assert endpoint.is_demo
    assert endpoint.api_key == ""  # the key is not carried into the demo


def test_toolsmith_provider_demo_in_secrets() -> None:
    assert initial_endpoint({"OPENAI_API_KEY": KEY}, {"TOOLSMITH_PROVIDER": "demo"}).is_demo


def test_toolsmith_provider_openai_without_a_key_is_openai() -> None:
    endpoint = initial_endpoint({"TOOLSMITH_PROVIDER": "openai"}, {})
    assert endpoint.preset == "openai"
    assert endpoint.api_key == ""


@pytest.mark.parametrize(("base", "preset", "model"), [
    ("https://api.wenwen-ai.com/v1", "wenwen", "gpt-4o-2024-08-06"),
    ("https://api.wenwen-ai.com/v1/", "wenwen", "gpt-4o-2024-08-06"),
    ("https://api.openai.com/v1", "openai", PRESETS["openai"].default_model),
    ("http://localhost:11434/v1", "ollama", "llama3.1"),
    ("http://localhost:8000/v1", "vllm", ""),
    ("https://gateway.example.com/v1", "custom", ""),
])
def test_base_url_selects_its_preset(base: str, preset: str, model: str) -> None:
    endpoint = initial_endpoint({"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base}, {})
    assert (endpoint.preset, endpoint.model) == (preset, model)
    assert endpoint.base_url == base
    assert preset_for_url(base) == preset


def test_base_url_without_a_key_counts_for_local_servers() -> None:
    """Ollama needs no key: a base URL alone selects it rather than the demo."""
    endpoint = initial_endpoint({"OPENAI_BASE_URL": "http://localhost:11434/v1"}, {})
    assert (endpoint.preset, endpoint.api_key) == ("ollama", "")
    assert endpoint.headers(stream=True).get("Authorization") is None


def test_custom_base_url_without_a_model_says_what_is_missing() -> None:
    endpoint = initial_endpoint({"OPENAI_BASE_URL": "https://gateway.example.com/v1"}, {})
    assert endpoint.problem() is not None and "model" in endpoint.problem()


def test_toolsmith_provider_anthropic_uses_the_anthropic_key() -> None:
    """Regression (fixed in f482069): ANTHROPIC_* were ignored and the demo started."""
    endpoint = initial_endpoint({"TOOLSMITH_PROVIDER": "anthropic",
                                 "ANTHROPIC_API_KEY": "sk-ant-test-MARKER"}, {})
    assert not endpoint.is_demo
    assert endpoint.wire == "anthropic"
    assert (endpoint.api_key, endpoint.key_env) == ("sk-ant-test-MARKER", "ANTHROPIC_API_KEY")
    assert endpoint.chat_url() == "https://api.anthropic.com/v1/messages"


# --- URLs and headers -------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["https://api.openai.com/v1", "https://api.openai.com/v1/"])
def test_openai_urls(base: str) -> None:
    endpoint = Endpoint("openai", base, "gpt-4o")
    assert endpoint.chat_url() == "https://api.openai.com/v1/chat/completions"
    assert endpoint.models_url() == "https://api.openai.com/v1/models"


@pytest.mark.parametrize("base", ["https://api.anthropic.com", "https://api.anthropic.com/",
                                  "https://api.anthropic.com/v1"])
def test_anthropic_urls_add_v1_once(base: str) -> None:
    endpoint = Endpoint("custom", base, "claude", wire="anthropic")
    assert endpoint.chat_url() == "https://api.anthropic.com/v1/messages"
    assert endpoint.models_url() == "https://api.anthropic.com/v1/models"


def test_headers_with_a_key() -> None:
    endpoint = Endpoint("openai", "https://api.openai.com/v1", "gpt-4o", api_key=KEY)
    assert endpoint.headers(stream=True) == {
        "Content-Type": "application/json", "Accept": "text/event-stream",
        "Authorization": f"Bearer {KEY}"}
    assert endpoint.headers(stream=False)["Accept"] == "application/json"


def test_anthropic_headers_use_x_api_key_unless_bearer_is_asked_for() -> None:
    plain = Endpoint("custom", "https://api.anthropic.com", "c", api_key=KEY, wire="anthropic",
                     key_env="ANTHROPIC_API_KEY")
    headers = plain.headers(stream=True)
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    bearer = dataclasses.replace(plain, bearer_auth=True)
    assert bearer.headers(stream=True)["Authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in bearer.headers(stream=True)


@pytest.mark.parametrize("bad", [KEY + "\u200b", KEY + "\n", "sk-…", f"{KEY} x"],
                         ids=["zero-width", "newline", "ellipsis", "space"])
def test_unsendable_key_is_a_config_error_that_does_not_echo_it(bad: str) -> None:
    endpoint = Endpoint("openai", "https://api.openai.com/v1", "gpt-4o", api_key=bad)
    with pytest.raises(ConfigError) as info:
        endpoint.headers(stream=True)
    assert "OPENAI_API_KEY" in str(info.value)
    assert bad.strip() not in str(info.value)


def test_problem_names_what_to_set() -> None:
    assert "base URL" in (Endpoint("custom", "", "m").problem() or "")
    assert "base URL" in (Endpoint("custom", "localhost:11434/v1", "m").problem() or "")
    assert "model" in (Endpoint("custom", "http://localhost:8000/v1", "").problem() or "")
    assert Endpoint("custom", "http://localhost:8000/v1", "m").problem() is None


# --- the key stays hidden ---------------------------------------------------------------------


def test_repr_and_str_never_show_the_key() -> None:
    endpoint = Endpoint("openai", "https://api.openai.com/v1", "gpt-4o", api_key=KEY)
    for text in (repr(endpoint), str(endpoint), f"{endpoint}", f"{endpoint!r}",
                 repr([endpoint]), repr({"endpoint": endpoint}),
                 repr(dataclasses.replace(endpoint, model="o4-mini"))):
        assert KEY not in text
        assert "api_key" not in text
    assert "gpt-4o" in repr(endpoint)  # the repr is still useful


def test_repr_of_an_endpoint_from_the_environment_hides_the_key() -> None:
    assert KEY not in repr(initial_endpoint({"OPENAI_API_KEY": KEY}, {}))


def test_masked_headers_replace_every_credential() -> None:
    headers = {"Authorization": f"Bearer {KEY}", "x-api-key": KEY, "api-key": KEY,
               "Content-Type": "application/json", "Accept": "text/event-stream"}
    masked = masked_headers(headers)
    assert masked == {"Authorization": "Bearer $OPENAI_API_KEY", "x-api-key": "$OPENAI_API_KEY",
                      "api-key": "$OPENAI_API_KEY", "Content-Type": "application/json",
                      "Accept": "text/event-stream"}
    assert headers["Authorization"] == f"Bearer {KEY}"  # the input is left alone


def test_masked_headers_names_the_variable_and_ignores_case() -> None:
    masked = masked_headers({"AUTHORIZATION": f"Bearer {KEY}", "X-Api-Key": KEY},
                            "ANTHROPIC_API_KEY")
    assert masked == {"AUTHORIZATION": "Bearer $ANTHROPIC_API_KEY",
                      "X-Api-Key": "$ANTHROPIC_API_KEY"}


def test_masked_headers_of_a_real_endpoint_hold_no_key() -> None:
    endpoint = Endpoint("openai", "https://api.openai.com/v1", "gpt-4o", api_key=KEY)
    assert KEY not in repr(masked_headers(endpoint.headers(stream=True)))
