"""Where requests go: presets, and the endpoint resolved from environment or secrets.

Keys are kept out of every repr (so they cannot leak into logs or error text) and are
never part of a request body; they travel only in the Authorization header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.wire.errors import ConfigError
from core.wire.http import RetryPolicy, Timeouts

DEMO_BASE_URL = "http://toolsmith-demo.invalid/v1"
ANTHROPIC_VERSION = "2023-06-01"
Wire = Literal["openai", "anthropic"]
DEMO_MODEL = "toolsmith-demo"


@dataclass(frozen=True)
class Preset:
    label: str
    base_url: str
    default_model: str
    needs_key: bool = True
    wire: str = "openai"


PRESETS: dict[str, Preset] = {
    "demo": Preset("Offline demo model (no key needed)", DEMO_BASE_URL, DEMO_MODEL, False),
    "wenwen": Preset("Reference gateway (api.wenwen-ai.com)", "https://api.wenwen-ai.com/v1",
                     "gpt-4o-2024-08-06"),
    "wenwen-anthropic": Preset("Reference gateway, Anthropic format (api.wenwen-ai.com)",
                               "https://api.wenwen-ai.com", "claude-sonnet-4-5",
                               wire="anthropic"),
    "openai": Preset("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
    "anthropic": Preset("Anthropic", "https://api.anthropic.com", "claude-sonnet-4-5",
                        wire="anthropic"),
    "ollama": Preset("Ollama (local)", "http://localhost:11434/v1", "llama3.1", False),
    "vllm": Preset("vLLM / LM Studio (local)", "http://localhost:8000/v1", "", False),
    "custom": Preset("Custom", "", "", False),
}


@dataclass(frozen=True)
class Endpoint:
    """A resolved place to send chat requests (OpenAI format)."""

    preset: str
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    key_env: str = "OPENAI_API_KEY"
    wire: Wire = "openai"
    bearer_auth: bool = False  # Anthropic format only: some gateways want Bearer, not x-api-key
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def is_demo(self) -> bool:
        return self.preset == "demo"

    @property
    def provider(self) -> str:
        return "demo" if self.is_demo else self.wire

    def problem(self) -> str | None:
        """Why no request can be sent yet, in words for the sidebar's user; None when ready."""
        if self.is_demo:
            return None
        if not self.base_url.startswith(("http://", "https://")):
            return "Set a base URL in the sidebar (for example https://api.openai.com/v1)."
        if not self.model:
            return "Choose or type a model name in the sidebar."
        return None

    def _api_root(self) -> str:
        """The base with /v1: OpenAI-style bases include it, Anthropic-style bases do not."""
        base = self.base_url.rstrip("/")
        if self.wire == "anthropic" and not base.endswith("/v1"):
            base += "/v1"
        return base

    def chat_url(self) -> str:
        suffix = "/messages" if self.wire == "anthropic" else "/chat/completions"
        return self._api_root() + suffix

    def models_url(self) -> str:
        return self._api_root() + "/models"

    def headers(self, *, stream: bool) -> dict[str, str]:
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream" if stream else "application/json"}
        if self.wire == "anthropic":
            headers["anthropic-version"] = ANTHROPIC_VERSION
        if self.api_key:
            if not self.api_key.isascii() or any(c.isspace() for c in self.api_key):
                raise ConfigError(
                    "The API key contains a space or a non-ASCII character (often a pasted "
                    "line break, zero-width space or '…'), so it cannot be sent. Enter the key "
                    f"again, or fix {self.key_env}.")
            if self.wire == "anthropic" and not self.bearer_auth:
                headers["x-api-key"] = self.api_key
            else:
                headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


REDACTED = "[API key redacted]"


def redact(value: Any, secret: str) -> Any:
    """`value` with every occurrence of `secret` replaced, in strings and nested JSON alike.

    Some gateways echo the key back in error messages; nothing the app shows or stores may
    carry it.
    """
    if not secret or len(secret) < 4:
        return value
    if isinstance(value, str):
        return value.replace(secret, REDACTED) if secret in value else value
    if isinstance(value, dict):
        return {k: redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    return value


def masked_headers(headers: Mapping[str, str], key_env: str = "OPENAI_API_KEY") -> dict[str, str]:
    """Headers fit to show or store: credentials replaced by a placeholder."""
    secret = {"authorization", "x-api-key", "api-key"}
    out = {}
    for name, value in headers.items():
        if name.lower() in secret:
            out[name] = f"Bearer ${key_env}" if value.startswith("Bearer ") else f"${key_env}"
        else:
            out[name] = value
    return out


def preset_for_url(base_url: str, wire: str = "openai") -> str:
    for name, preset in PRESETS.items():
        if preset.wire == wire and preset.base_url \
                and preset.base_url.rstrip("/") == base_url.rstrip("/"):
            return name
    return "custom"


KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def _reader(env: Mapping[str, str], secrets: Mapping[str, Any]):
    def get(name: str) -> str:
        value = secrets.get(name) or env.get(name) or ""
        return str(value).strip()

    return get


def configured_keys(env: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, str]:
    """The key configured for each wire format (secrets first, then environment)."""
    get = _reader(env, secrets)
    return {wire: get(name) for wire, name in KEY_ENV.items()}


def initial_endpoint(env: Mapping[str, str], secrets: Mapping[str, Any]) -> Endpoint:
    """The endpoint at start: secrets, then environment; the demo model when nothing is set.

    TOOLSMITH_PROVIDER (openai | anthropic | demo) decides; without it, OpenAI settings win,
    then Anthropic ones. A base URL without a key still counts (Ollama and vLLM need none).
    """
    get = _reader(env, secrets)
    provider = get("TOOLSMITH_PROVIDER").lower()
    openai_set = bool(get("OPENAI_API_KEY") or get("OPENAI_BASE_URL"))
    anthropic_set = bool(get("ANTHROPIC_API_KEY") or get("ANTHROPIC_BASE_URL"))
    if provider == "anthropic" or (provider not in ("openai", "demo") and not openai_set
                                   and anthropic_set):
        base = get("ANTHROPIC_BASE_URL") or PRESETS["anthropic"].base_url
        preset = preset_for_url(base, "anthropic")
        model = get("ANTHROPIC_MODEL") or PRESETS[preset].default_model \
            or PRESETS["anthropic"].default_model
        return Endpoint(preset, base, model, api_key=get("ANTHROPIC_API_KEY"),
                        key_env="ANTHROPIC_API_KEY", wire="anthropic")
    if provider == "demo" or (provider != "openai" and not openai_set):
        return Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL)
    base = get("OPENAI_BASE_URL") or PRESETS["openai"].base_url
    preset = preset_for_url(base)
    model = get("OPENAI_MODEL") or PRESETS[preset].default_model
    return Endpoint(preset, base, model, api_key=get("OPENAI_API_KEY"))
