"""The Run view: pick a suite, targets (the sidebar's server, more of its models, other wire
formats, the demo model) and repeats; Run starts it in the background."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from components import state
from components.evals import actions
from components.evals import state as evals_state
from components.untrusted import code, text
from core.config import DEMO_BASE_URL, DEMO_MODEL, KEY_ENV, PRESETS, preset_for_url
from core.evals import runner
from core.evals.records import Target
from core.evals.suite import SuiteFile
from core.evals.targets import configured_targets

DEMO_TARGETS = {f"Demo model ({wire} format)": Target(wire, DEMO_BASE_URL, DEMO_MODEL, "demo")
                for wire in KEY_ENV}


def render(files: list[SuiteFile]) -> None:
    ready = [f for f in files if f.suite is not None]
    if not ready:
        st.info("No suite is ready to run: add or fix one in **Suites**.",
                icon=":material/science:")
        return
    paths = [str(f.path) for f in ready]
    default = evals_state.selected_suite()
    index = paths.index(default) if default in paths else 0
    picked = st.selectbox("Suite", paths, index=index, key="evals.run_suite",
                          format_func=lambda p: Path(p).name)
    suite = next(f.suite for f in ready if str(f.path) == picked)
    assert suite is not None
    st.caption(f"{len(suite.cases)} case(s) · tools: "
               f"{', '.join(code(t.name) for t in suite.tools)}")
    targets = _targets()
    cols = st.columns(2)
    repeats = cols[0].number_input("Repeats (answers per case and target)", 1, 50,
                                   runner.DEFAULT_REPEATS, key="evals.repeats")
    concurrency = cols[1].number_input("Requests at once, per target", 1, 64,
                                       runner.DEFAULT_CONCURRENCY, key="evals.concurrency")
    chat = state.settings()
    settings = runner.RunSettings(stream=chat.stream, temperature=chat.temperature,
                                  max_tokens=chat.max_tokens,
                                  idle_timeout=state.endpoint().timeouts.idle)
    total = len(suite.cases) * len(targets) * int(repeats)
    st.caption(f"{total} request(s). Temperature, max tokens and streaming come from the "
               "sidebar. The run goes on in the background: switch pages freely, its "
               "results are saved as they arrive.")
    st.button(f"Run {total} request(s)", key="evals.start", type="primary",
              disabled=not targets, icon="▶️", on_click=actions.start_run,
              args=(suite, targets, int(repeats), int(concurrency), settings))


def _targets() -> list[Target]:
    """Targets, de-duplicated in the order picked."""
    picked: list[Target] = []
    sidebar = evals_state.sidebar_target()
    problem = state.endpoint().problem()
    st.markdown("**Targets**")
    if problem:
        st.caption(f"The sidebar's server is not ready: {text(problem)}")
    elif st.checkbox(f"The sidebar's server: {text(sidebar.label, 300)}", value=True,
                     key="evals.t.sidebar"):
        picked.append(sidebar)
    if sidebar.preset != "demo" and not problem:
        known = [m for m in state.model_list(sidebar.base_url) if m != sidebar.model]
        more = st.multiselect("More models of this server", known, key="evals.t.models",
                              accept_new_options=True,
                              help="From Load model list in the sidebar, or type a name.")
        picked += [Target(sidebar.wire, sidebar.base_url, m, sidebar.preset,
                          sidebar.bearer_auth) for m in more]
        other = "anthropic" if sidebar.wire == "openai" else "openai"
        preset = next((name for name, p in PRESETS.items() if p.wire == other
                       and p.base_url.split("//")[-1].split("/")[0]
                       == sidebar.base_url.split("//")[-1].split("/")[0]), None)
        if preset and st.checkbox(f"The same server in the {other} format "
                                  f"({PRESETS[preset].base_url}, "
                                  f"{PRESETS[preset].default_model})",
                                  key="evals.t.other_format"):
            picked.append(Target(other, PRESETS[preset].base_url,
                                 PRESETS[preset].default_model, preset))
    for target in configured_targets(os.environ, state.secrets()):
        if target.key != sidebar.key and st.checkbox(
                f"Configured server: {text(target.label, 300)}", key=f"evals.t.conf.{target.key}",
                help="From the environment or .streamlit/secrets.toml"):
            picked.append(target)
    for label, target in DEMO_TARGETS.items():
        on_by_default = sidebar.preset == "demo" and target.wire == sidebar.wire
        if on_by_default:
            continue  # it is the sidebar's server
        if st.checkbox(label, key=f"evals.t.demo.{target.wire}"):
            picked.append(target)
    with st.expander("Another server", icon=":material/public:"):
        cols = st.columns([1, 3, 2])
        wire = cols[0].selectbox("Format", list(KEY_ENV), key="evals.t.custom_wire")
        base = cols[1].text_input("Base URL", key="evals.t.custom_base",
                                  placeholder="https://api.openai.com/v1").strip()
        model = cols[2].text_input("Model", key="evals.t.custom_model").strip()
        if base and model:
            if base.startswith(("http://", "https://")):
                picked.append(Target(wire, base, model, preset_for_url(base, wire)))
                st.caption(f"Key: {KEY_ENV[wire]} as configured, or typed in the sidebar "
                           f"for the {wire} format.")
            else:
                st.warning("The base URL must start with http:// or https://.")
    unique = list({t.key: t for t in picked}.values())
    if not unique:
        st.warning("Pick at least one target.", icon=":material/target:")
    return unique
