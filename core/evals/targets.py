"""The servers configured by environment or secrets, as eval targets: one per wire format
whose base URL or key is set (the same rules as the app's start-up endpoint), so a run can put
every configured provider side by side without typing their addresses again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.config import PRESETS, preset_for_url
from core.evals.records import Target
from core.wire import formats


def configured_targets(env: Mapping[str, str], secrets: Mapping[str, Any]) -> list[Target]:
    def get(name: str) -> str:
        return str(secrets.get(name) or env.get(name) or "").strip()

    found = []
    for fmt in formats():
        if not (get(fmt.key_env) or get(fmt.base_url_env)):
            continue
        official = next((p for p in PRESETS.values() if p.wire == fmt.name and p.official),
                        None)
        base = get(fmt.base_url_env) or (official.base_url if official else "")
        if not base.startswith(("http://", "https://")):
            continue
        preset = preset_for_url(base, fmt.name)
        model = get(fmt.model_env) or PRESETS[preset].default_model or (
            official.default_model if official else "")
        if model:
            found.append(Target(fmt.name, base, model, preset))
    return found
