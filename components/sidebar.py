"""The shared sidebar: where requests go (preset, base URL, key, model) and how (settings).

Rendered by app.py on every page, so its widgets keep their values across pages.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import streamlit as st

from components import state
from components.clients import client_for
from core.config import KEY_ENV, PRESETS, Endpoint, redact
from core.models import fetch_models
from core.types import ChatSettings
from core.wire.errors import ToolsmithError
from core.wire.http import Timeouts

log = logging.getLogger("toolsmith")


WIRE_LABELS = {"openai": "OpenAI format", "anthropic": "Anthropic format"}


def _apply_preset() -> None:
    """Callback: a new preset fills in its base URL, default model and wire format."""
    name = st.session_state["sidebar.preset"]
    preset = PRESETS[name]
    if preset.base_url or name == "custom":
        st.session_state["sidebar.base_url"] = preset.base_url
    st.session_state["sidebar.model"] = preset.default_model or None
    if name not in ("demo", "custom", "ollama", "vllm"):
        st.session_state["sidebar.wire"] = preset.wire


def _init_widgets() -> None:
    if "sidebar.preset" in st.session_state:
        return
    start = state.startup_endpoint()
    st.session_state["sidebar.preset"] = start.preset
    st.session_state["sidebar.base_url"] = start.base_url
    st.session_state["sidebar.model"] = start.model or None
    st.session_state["sidebar.wire"] = start.wire


def render() -> tuple[Endpoint, ChatSettings]:
    """Draw the sidebar; return the endpoint and settings the next request will use."""
    _init_widgets()
    sb = st.sidebar
    sb.subheader("Model server")
    preset_name = sb.selectbox(
        "Preset", list(PRESETS), format_func=lambda p: PRESETS[p].label,
        key="sidebar.preset", on_change=_apply_preset,
    )
    is_demo = preset_name == "demo"
    wire = sb.segmented_control(
        "Wire format", list(WIRE_LABELS), format_func=WIRE_LABELS.get, key="sidebar.wire",
        required=True,
        help="OpenAI: POST {base}/chat/completions. Anthropic: POST {base}/v1/messages. The "
             "conversation carries over when you switch, so you can compare the two.",
    ) or "openai"
    if is_demo:
        sb.info("**Offline demo model.** Runs inside Toolsmith: no key, no network. It picks a "
                "tool from your question and answers from the results you type.", icon="🧪")
        base_url = PRESETS["demo"].base_url
    else:
        base_url = sb.text_input(
            "Base URL", key="sidebar.base_url",
            placeholder="https://host/v1" if wire == "openai" else "https://host",
            help="OpenAI format: the base including /v1 (OPENAI_BASE_URL). Anthropic format: "
                 "the host without /v1 (ANTHROPIC_BASE_URL); requests go to {base}/v1/messages.",
        ).strip()
        _key_widgets(sb, wire)
        if wire == "anthropic":
            sb.toggle("Send the key as Authorization: Bearer", key="sidebar.bearer",
                      help="Anthropic's API wants x-api-key; some gateways want a Bearer "
                           "token instead.")
    models = [PRESETS["demo"].default_model] if is_demo else state.model_list(base_url)
    current = st.session_state.get("sidebar.model")
    if current and current not in models:
        models = [current, *models]
    model = sb.selectbox(
        "Model", models, key="sidebar.model", accept_new_options=True,
        placeholder="Type a model name or load the list",
        help="Pick from the server's list, or type any model name.",
    ) or ""
    if not is_demo:
        sb.button("Load model list", key="sidebar.load_models", on_click=_load_models,
                  args=(base_url,), help=f"GET {base_url.rstrip('/')}/models")
        if st.session_state.get("conn.models_error"):
            sb.error(st.session_state["conn.models_error"])
    timeouts = Timeouts(idle=float(st.session_state.get("sidebar.idle_timeout", 60)))
    endpoint = Endpoint(
        preset=preset_name, base_url=base_url, model=model, api_key=state.api_key(wire),
        key_env=KEY_ENV[wire], wire=wire, timeouts=timeouts,
        bearer_auth=bool(st.session_state.get("sidebar.bearer")),
    )
    if is_demo:
        endpoint = replace(endpoint, api_key="")
    state.set_endpoint(endpoint)

    sb.subheader("Request")
    settings = ChatSettings(
        model=model,
        system_prompt=sb.text_area("System prompt", key="sidebar.system_prompt", height=80),
        temperature=sb.slider("Temperature", 0.0, 2.0, 1.0, 0.05, key="sidebar.temperature"),
        max_tokens=int(sb.number_input(
            "Max tokens (0 = server default)", 0, 1_000_000, 0, 64, key="sidebar.max_tokens")),
        stream=sb.toggle("Stream", value=True, key="sidebar.stream"),
    )
    with sb.expander("Timeouts"):
        st.number_input(
            "Idle timeout (s)", 1, 600, 60, key="sidebar.idle_timeout",
            help="How long a stream may stay silent before Toolsmith gives up on it.",
        )
    return endpoint, settings


def _key_widgets(sb: st.delta_generator.DeltaGenerator, wire: str) -> None:
    source = state.key_source(wire)
    if source:
        sb.caption(f"🔑 API key set ({source}).")
        if source.startswith("typed"):
            sb.button("Forget the typed key", key="sidebar.forget_key", on_click=state.forget_key,
                      args=(wire,), icon="🗑️")
    fmt = "OpenAI" if wire == "openai" else "Anthropic"
    sb.text_input(
        f"API key ({fmt} format)" if not source else f"Replace API key ({fmt} format)",
        type="password", key="sidebar.api_key", on_change=state.take_typed_key, args=(wire,),
        help=f"Used for {fmt}-format requests only. Kept in memory for this browser session "
             f"only; never shown again, stored or logged. Or set {KEY_ENV[wire]}.",
    )


def _load_models(base_url: str) -> None:
    """Callback (runs before the script, so it may set the model widget)."""
    current = state.endpoint()
    endpoint = replace(current, base_url=base_url, api_key=state.api_key(current.wire))
    st.session_state["conn.models_error"] = ""
    try:
        models = fetch_models(endpoint, client_for(endpoint))
    except ToolsmithError as exc:
        st.session_state["conn.models_error"] = redact(f"{exc.message} {exc.detail}".strip(),
                                                       endpoint.api_key)
        return
    except Exception:  # a callback runs outside the page's guard: never let it reach the page
        log.exception("loading the model list failed")
        st.session_state["conn.models_error"] = ("The model list could not be loaded (see the "
                                                 "server log). Type the model name instead.")
        return
    state.set_model_list(base_url, models)
    if models and not st.session_state.get("sidebar.model"):
        st.session_state["sidebar.model"] = models[0]
