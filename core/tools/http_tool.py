"""HTTP tools: a library tool that says how to run it,

    run:
      http:
        method: POST
        url: "{base}/images/generations"
        headers: {Authorization: "Bearer ${OPENAI_API_KEY}"}
        body: {model: gpt-image-1, prompt: "{prompt}", size: "{size}"}

`{name}` is the call's argument of that name (a whole-string `"{size}"` keeps the argument's
JSON type and is dropped when the model left it out; inside a longer string, or in the URL,
it is text, URL-encoded in the URL); `{base}` is the configured OpenAI-format server's base
URL; `${NAME}` is an environment variable (or the app's key for OPENAI_API_KEY /
ANTHROPIC_API_KEY), resolved only when the request is made and never shown or kept.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from core.tools.mcp_config import ENV_REF, MissingVariable, redact_secrets
from core.wire.errors import ToolsmithError

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ARG_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
WHOLE_ARG = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
WIRE = "http-tool"
MAX_ANSWER_BYTES = 20_000_000
TIMEOUT_S = 120.0
_MISSING = object()  # an argument the call left out: its key is dropped from the body


def run_problems(run: Any) -> list[tuple[str, str]]:
    """(message, pointer) for every problem of a tool's `run` block."""
    if not isinstance(run, dict) or not isinstance(run.get("http"), dict):
        return [("run must be {http: {method, url, headers, body}}", "/run")]
    http = run["http"]
    problems = []
    if str(http.get("method", "GET")).upper() not in METHODS:
        problems.append((f"method must be one of {', '.join(METHODS)}", "/run/http/method"))
    if not isinstance(http.get("url"), str) or not http["url"].strip():
        problems.append(("url is required (e.g. \"{base}/images/generations\")",
                         "/run/http/url"))
    headers = http.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        problems.append(("headers must map names to text", "/run/http/headers"))
    return problems


@dataclass
class HttpCall:
    """A request ready to send; `secrets` are the resolved values that must never be kept."""

    method: str
    url: str
    headers: dict[str, str]
    body: Any = None
    shown_headers: dict[str, str] = field(default_factory=dict)  # references, not values
    secrets: list[str] = field(default_factory=list)


def _text(template: str, arguments: Mapping[str, Any], base: str, url: bool = False) -> str:
    def argument(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "base":
            return base.rstrip("/")
        if name not in arguments:
            raise KeyError(name)
        value = arguments[name]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return quote(text, safe="") if url else text
    return ARG_REF.sub(argument, template)


def _body(template: Any, arguments: Mapping[str, Any], base: str) -> Any:
    if isinstance(template, str):
        whole = WHOLE_ARG.match(template)
        if whole and whole.group(1) != "base":
            return arguments.get(whole.group(1), _MISSING)
        return _text(template, arguments, base)
    if isinstance(template, list):
        return [v for v in (_body(t, arguments, base) for t in template) if v is not _MISSING]
    if isinstance(template, dict):
        return {k: v for k, v in ((k, _body(t, arguments, base)) for k, t in template.items())
                if v is not _MISSING}
    return template


def _resolve(text: str, environ: Mapping[str, str]) -> str:
    missing = [n for n in ENV_REF.findall(text) if not environ.get(n)]
    if missing:
        raise MissingVariable(list(dict.fromkeys(missing)))
    return ENV_REF.sub(lambda m: environ[m.group(1)], text)


def prepare(run: dict[str, Any], arguments: Mapping[str, Any], *, base: str,
            environ: Mapping[str, str]) -> HttpCall:
    """The request for one call; ValueError (MissingVariable, or a missing argument) says
    what is missing."""
    http = run["http"]
    try:
        url = _text(_resolve(str(http["url"]), environ), arguments, base, url=True)
        template_headers = {str(k): str(v) for k, v in (http.get("headers") or {}).items()}
        headers = {k: _text(_resolve(v, environ), arguments, base)
                   for k, v in template_headers.items()}
        body = _body(http.get("body"), arguments, base) if "body" in http else None
    except KeyError as exc:
        raise ValueError(f"the request needs the argument '{exc.args[0]}', which the call "
                         "does not give") from None
    references = [n for t in (str(http["url"]), *template_headers.values())
                  for n in ENV_REF.findall(t)]
    secrets = sorted({environ[n] for n in references if len(environ.get(n, "")) >= 4},
                     key=len, reverse=True)
    shown = {k: v if not ENV_REF.search(v) else ENV_REF.sub(lambda m: f"${m.group(1)}", v)
             for k, v in template_headers.items()}
    return HttpCall(method=str(http.get("method", "GET")).upper(), url=url, headers=headers,
                    body=body, shown_headers=shown, secrets=secrets)


@dataclass
class HttpAnswer:
    status: int | None
    text: str  # what goes into the result box
    is_error: bool
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (mime type, bytes)
    kept: Any = None  # the answer as kept with the conversation (images as base64)
    error: str = ""
    started_at: float = 0.0
    ended_at: float = 0.0


def images_of(kept: Any) -> list[tuple[str, bytes]]:
    """The images of a kept answer (an image answer, or b64_json inside JSON)."""
    if isinstance(kept, dict) and isinstance(kept.get("b64"), str) and "image" in kept:
        try:
            return [(str(kept["image"]), base64.b64decode(kept["b64"]))]
        except ValueError:
            return []
    found: list[tuple[str, bytes]] = []
    _images_in(kept, found)
    return found


def _images_in(value: Any, found: list[tuple[str, bytes]]) -> Any:
    """OpenAI-style `b64_json` images decoded out of a JSON answer (a placeholder stays)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "b64_json" and isinstance(item, str):
                try:
                    data = base64.b64decode(item, validate=True)
                except ValueError:
                    out[key] = item
                    continue
                found.append(("image/png", data))
                out[key] = f"[image {len(found)}: {len(data):,} bytes, shown below]"
            else:
                out[key] = _images_in(item, found)
        return out
    if isinstance(value, list):
        return [_images_in(v, found) for v in value]
    return value


def send(call: HttpCall, client: httpx.Client) -> HttpAnswer:
    """Make the request; never raises: a failure is an error answer."""
    answer = HttpAnswer(status=None, text="", is_error=True, started_at=time.time())
    content = None if call.body is None else json.dumps(call.body).encode()
    # Header values outside ASCII (an argument such as "São Paulo") go as UTF-8 bytes.
    headers: dict[str, str | bytes] = {k: v if v.isascii() else v.encode()
                                       for k, v in call.headers.items()}
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    try:
        response = client.request(call.method, call.url, content=content,
                                  headers=headers,  # type: ignore[arg-type]  # str or bytes
                                  timeout=TIMEOUT_S)
        raw = response.content[:MAX_ANSWER_BYTES]
    except ToolsmithError as exc:  # e.g. a team server's egress policy refused the address
        answer.error = redact_secrets(f"The request to {call.url} was not sent: {exc}",
                                      call.secrets)
        answer.text, answer.ended_at = answer.error, time.time()
        return answer
    except (httpx.HTTPError, ValueError, TypeError) as exc:
        answer.error = redact_secrets(
            f"The request to {call.url} failed: {exc.__class__.__name__} "
            f"({str(exc)[:200]}).", call.secrets)
        answer.text, answer.ended_at = answer.error, time.time()
        return answer
    answer.ended_at = time.time()
    answer.status = response.status_code
    answer.is_error = response.status_code >= 400
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith("image/"):
        answer.images.append((kind, raw))
        answer.text = f"[image: {kind}, {len(raw):,} bytes]"
        answer.kept = {"image": kind, "b64": base64.b64encode(raw).decode()}
        return answer
    text = redact_secrets(raw.decode("utf-8", "replace"), call.secrets)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        answer.text = text if not answer.is_error else f"HTTP {response.status_code}: {text}"
        answer.kept = text
        return answer
    answer.kept = data
    shown = _images_in(data, answer.images)
    pretty = json.dumps(shown, indent=2, ensure_ascii=False)
    answer.text = pretty if not answer.is_error else f"HTTP {response.status_code}: {pretty}"
    return answer
