"""Where requests go: presets, and the endpoint resolved from environment or secrets.

Keys are kept out of every repr (so they cannot leak into logs or error text) and are
never part of a request body; they travel only in the Authorization header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.wire import WireFormat, formats, wire_format
from core.wire.anthropic_messages import ANTHROPIC_VERSION as _anthropic_version
from core.wire.http import RetryPolicy, Timeouts

DEMO_BASE_URL = "http://toolsmith-demo.invalid/v1"
ANTHROPIC_VERSION = _anthropic_version
DEMO_MODEL = "toolsmith-demo"
DEMO_PROVIDER = "demo"


@dataclass(frozen=True)
class Preset:
    """A server preset: where a known server lives, and the wire format it is used in."""

    label: str
    base_url: str
    default_model: str
    needs_key: bool = True
    wire: str = "openai"
    fixed_wire: bool = True  # False: the user's format choice is kept (demo, local servers)
    official: bool = False  # the format's own vendor: its default when only a key is set


# Labels fit the sidebar's selectbox (about 28 characters); the base URL is shown under it.
PRESETS: dict[str, Preset] = {
    "demo": Preset("Offline demo model", DEMO_BASE_URL, DEMO_MODEL, False,
                   fixed_wire=False),
    "wenwen": Preset("wenwen-ai gateway", "https://api.wenwen-ai.com/v1",
                     "gpt-4o-2024-08-06"),
    "wenwen-responses": Preset("wenwen-ai, Responses",
                               "https://api.wenwen-ai.com/v1", "gpt-4o-2024-08-06",
                               wire="responses"),
    "wenwen-anthropic": Preset("wenwen-ai, Anthropic",
                               "https://api.wenwen-ai.com", "claude-sonnet-4-5",
                               wire="anthropic"),
    "openai": Preset("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini", official=True),
    "openai-responses": Preset("OpenAI, Responses API", "https://api.openai.com/v1",
                               "gpt-4o-mini", wire="responses", official=True),
    "anthropic": Preset("Anthropic", "https://api.anthropic.com", "claude-sonnet-4-5",
                        wire="anthropic", official=True),
    "ollama": Preset("Ollama (local)", "http://localhost:11434/v1", "llama3.1", False,
                     fixed_wire=False),
    "vllm": Preset("vLLM / LM Studio (local)", "http://localhost:8000/v1", "", False,
                   fixed_wire=False),
    "custom": Preset("Custom", "", "", False, fixed_wire=False),
}


def provider_of(base_url: str, *, demo: bool = False) -> str:
    """Who served a request, for the Usage page's "by provider": `demo` for the offline demo
    model, else the host (and port) of the base URL — the server that answered and bills."""
    if demo:
        return DEMO_PROVIDER
    try:
        host = urlsplit(base_url).netloc.rsplit("@", 1)[-1]
    except ValueError:  # not a URL at all; the request will say so
        host = ""
    return host or base_url or "?"


@dataclass(frozen=True)
class Endpoint:
    """A resolved place to send chat requests: a server preset, a base URL and model, and the
    wire format spoken there."""

    preset: str
    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    key_env: str = "OPENAI_API_KEY"
    wire: str = "openai"
    bearer_auth: bool = False  # for formats whose default is another auth style (x-api-key)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def format(self) -> WireFormat:
        return wire_format(self.wire)

    @property
    def is_demo(self) -> bool:
        return self.preset == "demo"

    @property
    def provider(self) -> str:
        """Who serves the requests (see provider_of); the wire format is `wire`."""
        return provider_of(self.base_url, demo=self.is_demo)

    def problem(self) -> str | None:
        """Why no request can be sent yet, in words for the sidebar's user; None when ready."""
        if self.is_demo:
            return None
        if not self.base_url.startswith(("http://", "https://")):
            return "Set a base URL in the sidebar (for example https://api.openai.com/v1)."
        if not self.model:
            return "Choose or type a model name in the sidebar."
        return None

    @property
    def auth(self) -> str:
        styles = self.format.auth_styles
        return "bearer" if self.bearer_auth and "bearer" in styles else styles[0]

    def chat_url(self) -> str:
        return self.format.request_url(self.base_url)

    def models_url(self) -> str:
        return self.format.models_url(self.base_url)

    def headers(self, *, stream: bool) -> dict[str, str]:
        return self.format.headers(self.api_key, stream=stream, auth=self.auth,
                                   key_env=self.key_env)


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


def key_envs() -> list[str]:
    """The environment variables keys are kept under, one per distinct variable (formats may
    share one: OpenAI's two formats both read OPENAI_API_KEY)."""
    return list(dict.fromkeys(fmt.key_env for fmt in formats()))


# Each format's key variable, by format name (formats may share one). Derived from the registry.
KEY_ENV: dict[str, str] = {fmt.name: fmt.key_env for fmt in formats()}


def _reader(env: Mapping[str, str], secrets: Mapping[str, Any]):
    def get(name: str) -> str:
        value = secrets.get(name) or env.get(name) or ""
        return str(value).strip()

    return get


def configured_keys(env: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, str]:
    """The key configured under each key variable (secrets first, then environment)."""
    get = _reader(env, secrets)
    return {name: get(name) for name in key_envs()}


START_VARIABLES = ("TOOLSMITH_WIRE_FORMAT", "TOOLSMITH_PROVIDER")  # the second: its old name


def initial_endpoint(env: Mapping[str, str], secrets: Mapping[str, Any]) -> Endpoint:
    """The endpoint at start: secrets, then environment; the demo model when nothing is set.

    TOOLSMITH_WIRE_FORMAT (a format name, or `demo`; TOOLSMITH_PROVIDER is its old name)
    decides; without it, the first format (in registry order) whose base URL or key is set
    wins. A base URL without a key still counts (Ollama and vLLM need none).
    """
    get = _reader(env, secrets)
    chosen = next((get(name).lower() for name in START_VARIABLES if get(name)), "")
    known = {fmt.name: fmt for fmt in formats()}
    if chosen == "demo":
        return Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL)
    fmt = known.get(chosen) or next(
        (f for f in formats() if get(f.key_env) or get(f.base_url_env)), None)
    if fmt is None:
        return Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL)
    default = next((name for name, p in PRESETS.items() if p.wire == fmt.name and p.official),
                   "custom")
    base = get(fmt.base_url_env) or PRESETS[default].base_url
    preset = preset_for_url(base, fmt.name)
    model = get(fmt.model_env) or PRESETS[preset].default_model
    return Endpoint(preset, base, model, api_key=get(fmt.key_env), key_env=fmt.key_env,
                    wire=fmt.name)
