"""A loopback HTTP server that serves one prepared SSE body, as fast as the socket takes it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tool_call_stream(chunks: int, *, call_id: str = "call_bench") -> bytes:
    """A chat.completion.chunk stream whose tool-call arguments arrive in `chunks` fragments."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
            "model": "bench"}

    def event(choices: list, **extra: object) -> bytes:
        return b"data: " + json.dumps({**base, "choices": choices, **extra}).encode() + b"\n\n"

    def delta(d: dict, finish: str | None = None) -> list:
        return [{"index": 0, "delta": d, "finish_reason": finish}]

    parts = [event(delta({"role": "assistant", "content": None})),
             event(delta({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                          "function": {"name": "get_current_weather",
                                                       "arguments": ""}}]}))]
    parts.append(event(delta({"tool_calls": [{"index": 0, "function": {"arguments": '{"v": "'}}]})))
    fragment = event(delta({"tool_calls": [{"index": 0, "function": {"arguments": "ab"}}]}))
    parts.extend([fragment] * (chunks - 4))
    parts.append(event(delta({"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]})))
    parts.append(event(delta({}, "tool_calls")))
    parts.append(event([], usage={"prompt_tokens": 10, "completion_tokens": chunks,
                                  "total_tokens": 10 + chunks}))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


class LoopbackServer:
    """Serves `body` for every request; GET and POST alike. Use as a context manager."""

    def __init__(self, body: bytes, content_type: str = "text/event-stream") -> None:
        payload = body

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
