"""Runnable code equivalent to a request: curl, Python (official SDK and plain httpx), JavaScript.

The key is never written: the code reads it from an environment variable (`$OPENAI_API_KEY`,
`$ANTHROPIC_API_KEY`), so what a person copies is safe to paste anywhere.
"""

from __future__ import annotations

import json
import pprint
from dataclasses import dataclass, replace
from typing import Any

from core.config import Endpoint
from core.types import Exchange
from core.wire import WireFormat, wire_format

LANGUAGES = {"curl": "bash", "python-sdk": "python", "python-httpx": "python",
             "javascript": "javascript"}
LABELS = {"curl": "curl", "python-sdk": "Python (official SDK)",
          "python-httpx": "Python (httpx)", "javascript": "JavaScript (fetch)"}


@dataclass(frozen=True)
class RequestSpec:
    """What is needed to write the request down: where, which format, which key, what body."""

    url: str
    wire: str
    key_env: str
    bearer: bool
    body: dict[str, Any]
    sdk_base_url: str

    @property
    def format(self) -> WireFormat:
        return wire_format(self.wire)

    @classmethod
    def of(cls, endpoint: Endpoint, body: dict[str, Any]) -> RequestSpec:
        return cls(url=endpoint.chat_url(), wire=endpoint.wire, key_env=endpoint.key_env,
                   bearer=endpoint.auth == "bearer", body=body,
                   sdk_base_url=endpoint.format.sdk_base_url(endpoint.base_url))

    @classmethod
    def of_exchange(cls, exchange: Exchange) -> RequestSpec:
        """The spec of a past request, read back from what was recorded (headers are masked)."""
        headers = {k.lower(): v for k, v in exchange.request_headers.items()}
        fmt = wire_format(exchange.wire)
        masked = headers.get("authorization") or headers.get("x-api-key") or ""
        key_env = masked.rsplit("$", 1)[-1] if "$" in masked else fmt.key_env
        endpoint = Endpoint("custom", exchange.base_url, exchange.model, key_env=key_env,
                            wire=fmt.name, bearer_auth="authorization" in headers)
        spec = cls.of(endpoint, exchange.request_body)
        return replace(spec, url=exchange.url or spec.url)

    def header_lines(self) -> list[tuple[str, str, bool]]:
        """(name, value, value-is-the-key) for every header to send."""
        lines = [("Content-Type", "application/json", False)]
        lines += [(name, value, False) for name, value in self.format.extra_headers.items()]
        lines.append(("Authorization", "Bearer ", True) if self.bearer
                     else ("x-api-key", "", True))
        return lines


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl(spec: RequestSpec) -> str:
    parts = [f"curl {'-N ' if spec.body.get('stream') else ''}{_shell_quote(spec.url)}"]
    for name, value, is_key in spec.header_lines():
        if is_key:
            parts.append(f'-H "{name}: {value}${spec.key_env}"')
        else:
            parts.append(f"-H {_shell_quote(f'{name}: {value}')}")
    parts.append("--data-raw " + _shell_quote(json.dumps(spec.body, indent=2,
                                                           ensure_ascii=False)))
    return " \\\n  ".join(parts) + "\n"


def _python_literal(value: Any) -> str:
    return pprint.pformat(value, indent=1, width=96, sort_dicts=False)


def python_sdk(spec: RequestSpec) -> str:
    """The official SDK call. The arguments the format names (every SDK version takes them)
    are keyword arguments; the rest travel in extra_body, so the server receives exactly this
    body whatever the SDK version accepts as keywords (SDKs rename and retire parameters)."""
    sdk = spec.format.sdk
    stream = bool(spec.body.get("stream"))
    body = {k: v for k, v in spec.body.items() if k != "stream"}
    named = [key for key in sdk.named if key in body]
    head = (f"import os\n\nfrom {sdk.package} import {sdk.client_class}\n\n"
            f"client = {sdk.client_class}(base_url={spec.sdk_base_url!r}, "
            f"api_key=os.environ[{spec.key_env!r}])\n")
    args = "".join(f"    {key}={_python_literal(body.pop(key))},\n" for key in named)
    if stream:
        args += "    stream=True,\n"
    if body:
        args += f"    extra_body={_python_literal(body)},\n"
    call = f"request = {sdk.method}(\n{args})\n"
    tail = ("for event in request:\n    print(event.model_dump_json())\n" if stream
            else "print(request.model_dump_json(indent=2))\n")
    return head + call + tail


def python_httpx(spec: RequestSpec) -> str:
    headers = []
    for name, value, is_key in spec.header_lines():
        if is_key:
            headers.append(f"    {name!r}: {value!r} + os.environ[{spec.key_env!r}],")
        else:
            headers.append(f"    {name!r}: {value!r},")
    header_block = "headers = {\n" + "\n".join(headers) + "\n}\n"
    send = (
        "with httpx.stream('POST', url, headers=headers, json=body, timeout=60) as response:\n"
        "    response.raise_for_status()\n"
        "    for line in response.iter_lines():\n"
        "        print(line)\n"
        if spec.body.get("stream") else
        "response = httpx.post(url, headers=headers, json=body, timeout=60)\n"
        "response.raise_for_status()\n"
        "print(response.json())\n"
    )
    return (f"import os\n\nimport httpx\n\nurl = {spec.url!r}\n{header_block}"
            f"body = {_python_literal(spec.body)}\n{send}")


def javascript(spec: RequestSpec) -> str:
    headers = []
    for name, value, is_key in spec.header_lines():
        if is_key:
            headers.append(f"    {json.dumps(name)}: {json.dumps(value)} + "
                           f"process.env.{spec.key_env},")
        else:
            headers.append(f"    {json.dumps(name)}: {json.dumps(value)},")
    read = (
        "const reader = response.body.getReader();\n"
        "const decoder = new TextDecoder();\n"
        "for (;;) {\n"
        "  const { done, value } = await reader.read();\n"
        "  if (done) break;\n"
        "  process.stdout.write(decoder.decode(value, { stream: true }));\n"
        "}\n"
        if spec.body.get("stream") else
        "console.log(JSON.stringify(await response.json(), null, 2));\n"
    )
    lines = [
        "// Node 18+ (ES module): node request.mjs",
        f"const body = {json.dumps(spec.body, indent=2, ensure_ascii=False)};",
        f"const response = await fetch({json.dumps(spec.url)}, {{",
        '  method: "POST",',
        "  headers: {",
        *headers,
        "  },",
        "  body: JSON.stringify(body),",
        "});",
        "if (!response.ok) throw new Error(`HTTP ${response.status}: "
        "${await response.text()}`);",
    ]
    return "\n".join(lines) + "\n" + read


GENERATORS = {"curl": curl, "python-sdk": python_sdk, "python-httpx": python_httpx,
              "javascript": javascript}


def generate(spec: RequestSpec, language: str) -> str:
    return GENERATORS[language](spec)
