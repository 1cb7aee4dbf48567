"""The shared sidebar: where requests go (preset, base URL, key, model) and how (settings).

Rendered by app.py on every page, so its widgets keep their values across pages.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import streamlit as st

from components import state, team
from components.clients import client_for
from components.untrusted import code, text
from core.config import PRESETS, Endpoint, redact
from core.models import fetch_models
from core.types import ChatSettings
from core.wire import WireFormat, formats, wire_format
from core.wire.errors import ToolsmithError
from core.wire.http import Timeouts

log = logging.getLogger("toolsmith")
REQUEST_DEFAULTS = {"sidebar.temperature": 1.0, "sidebar.max_tokens": 0,
                    "sidebar.stream": True}


def _apply_preset() -> None:
    """Callback: a new preset fills in its base URL, default model and wire format."""
    name = st.session_state["sidebar.preset"]
    preset = PRESETS[name]
    if preset.base_url or name == "custom":
        st.session_state["sidebar.base_url"] = preset.base_url
    st.session_state["sidebar.model"] = preset.default_model or None
    if preset.fixed_wire:
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
    known = {f.name: f for f in formats()}
    # A selectbox, not a segmented control: three formats side by side wrap in the sidebar.
    wire = sb.selectbox(
        "Wire format", list(known), format_func=lambda n: known[n].short_label,
        key="sidebar.wire",
        help=" ".join(f"{f.label}: POST {{base}}{'' if f.base_includes_v1 else '/v1'}{f.path}."
                      for f in known.values())
        + " The conversation carries over when you switch, so you can compare them.",
    ) or next(iter(known))
    fmt = known[wire]
    if is_demo:
        # Said once, on the Chat page: the sidebar only names it (issue 13: the banner twice).
        sb.caption("Runs inside Toolsmith: no key, no network.")
        base_url = PRESETS["demo"].base_url
    else:
        base_url = sb.text_input(
            "Base URL", key="sidebar.base_url", placeholder=fmt.base_url_hint,
            help=f"{fmt.label} format: {fmt.base_url_help}",
        ).strip()
        _key_widgets(sb, fmt, base_url)
        if "bearer" in fmt.auth_styles[1:]:
            sb.toggle("Send the key as Authorization: Bearer", key="sidebar.bearer",
                      help=f"{fmt.label} wants {fmt.auth_styles[0]}; some gateways want a "
                           "Bearer token instead.")
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
            sb.error(text(st.session_state["conn.models_error"]))  # the server's words
    timeouts = Timeouts(idle=float(st.session_state.get("sidebar.idle_timeout", 60)),
                        deadline=float(st.session_state.get("sidebar.stream_deadline", 900)))
    endpoint = Endpoint(
        preset=preset_name, base_url=base_url, model=model,
        api_key=state.api_key(fmt.key_env, base_url),
        key_env=fmt.key_env, wire=wire, timeouts=timeouts,
        bearer_auth=bool(st.session_state.get("sidebar.bearer")),
    )
    if is_demo:
        endpoint = replace(endpoint, api_key="")
    state.set_endpoint(endpoint)

    sb.subheader("Request")
    # Defaults through session state, not the widgets' value arguments: a reopened session
    # sets these keys too, and a widget given both logs Streamlit's warning about it.
    for key, default in REQUEST_DEFAULTS.items():
        st.session_state.setdefault(key, default)
    settings = ChatSettings(
        model=model,
        system_prompt=sb.text_area("System prompt", key="sidebar.system_prompt", height=80),
        temperature=sb.slider("Temperature", 0.0, 2.0, step=0.05, key="sidebar.temperature"),
        max_tokens=int(sb.number_input(
            "Max tokens (0 = server default)", 0, 1_000_000, step=64,
            key="sidebar.max_tokens")),
        stream=sb.toggle("Stream", key="sidebar.stream"),
        options=_format_options(sb, fmt),
    )
    with sb.expander("Timeouts"):
        st.number_input(
            "Idle timeout (s)", 1, 600, 60, key="sidebar.idle_timeout",
            help="How long a stream may stay silent before Toolsmith gives up on it.",
        )
        st.number_input(
            "Stream deadline (s)", 10, 7200, 900, key="sidebar.stream_deadline",
            help="How long one answer may take in all, however steadily it trickles in.",
        )
    return endpoint, settings


def _format_options(sb: st.delta_generator.DeltaGenerator, fmt: WireFormat) -> dict:
    """The settings only this format has; each one's widget is keyed by format and option."""
    values = {}
    for option in fmt.options:
        choice = sb.selectbox(option.label, list(option.choices), format_func=option.label_of,
                              key=f"sidebar.option.{fmt.name}.{option.key}", help=option.help)
        if choice is not None:
            values[option.key] = choice
    return values


def _key_widgets(sb: st.delta_generator.DeltaGenerator, fmt: WireFormat,
                 base_url: str) -> None:
    home = state.key_withheld(fmt.key_env, base_url)
    if home and not team.is_admin():  # a team server's key goes only where it was set up for
        sb.warning(f"This server's key in {fmt.key_env} belongs to {code(home)}, so it is not "
                   "sent to this address. Type your own key for this server.",
                   icon=":material/key:")
    elif home:
        sb.warning(f"The key in {fmt.key_env} belongs to {code(home)}, so it is not sent to this "
                   "address. Type a key for this server, or send that key here too.",
                   icon=":material/key:")
        sb.button(f"Send {fmt.key_env} to this server too", key="sidebar.reuse_key",
                  on_click=state.reuse_key, args=(fmt.key_env, base_url))
    source = state.key_source(fmt.key_env, base_url)
    if source:
        sb.caption(f":material/key: API key set ({source}).")
        if source.startswith("typed"):
            sb.button("Forget the typed key", key="sidebar.forget_key", on_click=state.forget_key,
                      args=(fmt.key_env,), icon=":material/delete:")
    sharing = [f.label for f in formats() if f.key_env == fmt.key_env]
    sb.text_input(
        f"API key ({fmt.key_env})" if not source else f"Replace API key ({fmt.key_env})",
        type="password", key="sidebar.api_key", on_change=state.take_typed_key,
        args=(fmt.key_env,),
        help=f"Used for {' and '.join(sharing)} requests only. Kept in memory for this browser "
             f"session only; never shown again, stored or logged. Or set {fmt.key_env}.",
    )


def _load_models(base_url: str) -> None:
    """Callback (runs before the script, so it may set the model widget)."""
    current = state.endpoint()
    endpoint = replace(current, base_url=base_url,
                       api_key=state.api_key(wire_format(current.wire).key_env, base_url))
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
