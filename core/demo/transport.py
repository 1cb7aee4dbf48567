"""The offline demo model as an httpx transport, answering in every registered wire format.

It plugs into httpx, so the app reaches it through exactly the code path a real server takes
(request building, SSE decoding, accumulation, errors). For each request the format whose path
matches reads the body back into the neutral conversation, the planner (core.demo.planner)
decides, and the same format encodes the reply, whole or as its event stream. Usage figures are
estimates (characters / 4).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from core.config import DEMO_MODEL
from core.demo.images import images_response
from core.demo.planner import Plan, plan_reply
from core.types import ToolCall
from core.wire import WireFormat, formats
from core.wire.base import DemoReply

__all__ = ["DemoTransport", "Plan", "plan_reply"]


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error(fmt: WireFormat | None, status: int, kind: str, message: str,
           headers: dict[str, str]) -> httpx.Response:
    if fmt is not None and fmt.error_shape == "anthropic":
        body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": kind}}
    return httpx.Response(status, headers=headers, json=body)


def _format_for(path: str) -> WireFormat | None:
    """The format whose request path this is (the longest match: /responses/input_tokens is
    not /responses)."""
    matches = [f for f in formats() if path.endswith(f.path)]
    return max(matches, key=lambda f: len(f.path), default=None)


def reply_for(fmt: WireFormat, body: dict[str, Any], seed: str) -> DemoReply:
    request = fmt.read_request(body)
    plan = plan_reply(request)
    calls = [ToolCall(id=f"{fmt.demo_id_prefix}{seed[i * 6:i * 6 + 12]}", name=name,
                      arguments=json.dumps(args)) for i, (name, args) in enumerate(plan.calls)]
    sent = {k: v for k, v in body.items() if k not in ("model", "stream")}
    return DemoReply(text=plan.text, calls=calls, model=str(body.get("model") or DEMO_MODEL),
                     seed=seed, prompt_tokens=_estimate_tokens(json.dumps(sent)),
                     completion_tokens=_estimate_tokens(plan.text + json.dumps(plan.calls)))


class DemoTransport(httpx.BaseTransport):
    """Answers GET /models and each format's POST path in process; everything else is a 404."""

    def __init__(self, chunk_delay: float = 0.0) -> None:
        self.chunk_delay = chunk_delay

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        headers = {"x-request-id": "req_demo_" + hashlib.sha1(request.content).hexdigest()[:12]}
        if request.method == "GET" and path.endswith("/models"):
            return httpx.Response(200, headers=headers, json={"object": "list", "data": [
                {"id": DEMO_MODEL, "object": "model", "owned_by": "toolsmith"}]})
        counting = next((f for f in formats() if f.count_tokens_path
                         and path.endswith(f.count_tokens_path)), None)
        if request.method == "POST" and counting is not None:
            return self._count(request, counting, headers)
        if request.method == "POST" and path.endswith("/images/generations"):
            try:
                return httpx.Response(200, headers=headers,
                                      json=images_response(json.loads(request.content)))
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _error(None, 400, "invalid_request_error",
                              "The request body is not JSON.", headers)
        fmt = _format_for(path) if request.method == "POST" else None
        if fmt is None:
            return _error(None, 404, "not_found",
                          f"The demo model has no {request.method} {path}", headers)
        try:
            body = json.loads(request.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(fmt, 400, "invalid_request_error", "The request body is not JSON.",
                          headers)
        if not isinstance(body, dict):
            return _error(fmt, 400, "invalid_request_error",
                          "The request body must be a JSON object.", headers)
        problem = fmt.demo_problem(body, {k.lower(): v for k, v in request.headers.items()})
        if problem:
            return _error(fmt, 400, "invalid_request_error", problem, headers)
        reply = reply_for(fmt, body, hashlib.sha1(request.content).hexdigest())
        if not body.get("stream"):
            return httpx.Response(200, headers=headers, json=fmt.demo_body(reply))
        headers["content-type"] = "text/event-stream"
        return httpx.Response(200, headers=headers, content=self._paced(fmt.demo_events(reply)))

    @staticmethod
    def _count(request: httpx.Request, fmt: WireFormat,
               headers: dict[str, str]) -> httpx.Response:
        """A counting endpoint: the bundled tokenizer over the request's compact JSON."""
        from core.tools.token_count import text_tokens

        try:
            body = json.loads(request.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(fmt, 400, "invalid_request_error", "The request body is not JSON.",
                          headers)
        sent = {k: v for k, v in body.items() if k != "model"} if isinstance(body, dict) else {}
        return httpx.Response(200, headers=headers, json={"input_tokens": text_tokens(
            json.dumps(sent, separators=(",", ":"), ensure_ascii=False))})

    def _paced(self, events: Iterator[Any]) -> Iterator[bytes]:
        for event in events:
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            yield event.encode()
