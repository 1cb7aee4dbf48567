"""An HTTP server on 127.0.0.1 whose brain is the demo model, for eval runner tests and the
eval benchmark: real sockets, both wire formats (OpenAI `/v1/chat/completions`, Anthropic
`/v1/messages`), with a fixed answer delay and an optional concurrency limit that answers 429 +
`Retry-After` beyond it, as rate-limited providers do.

Models named `fault-500` always answer 500. `hold` makes every request wait until `release()`
(cancel tests). Every POST is counted in `posts`; `peak` is the most requests served at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from core.demo.transport import DemoTransport


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    owner: EvalServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path == "/stats":  # for a benchmark driving this server in another process
            self._answer((200, {"Content-Type": "application/json"}, json.dumps(
                {"posts": owner.posts, "rejected": owner.rejected, "peak": owner.peak}
            ).encode()))
            return
        self._answer(owner.handle("GET", self.path, dict(self.headers), b""))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._answer(self.server.owner.handle("POST", self.path, dict(self.headers), body))

    def _answer(self, reply: tuple[int, dict[str, str], bytes]) -> None:
        status, headers, body = reply
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class EvalServer:
    def __init__(self, *, delay: float = 0.0, max_concurrent: int | None = None,
                 retry_after: str = "0.1", hold: bool = False) -> None:
        self.delay = delay
        self.max_concurrent = max_concurrent
        self.retry_after = retry_after
        self.stopping = threading.Event()
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.posts = 0
        self.rejected = 0
        self.active = 0
        self.peak = 0
        self.arrived = threading.Condition()
        self._lock = threading.Lock()
        self._demo = DemoTransport()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> EvalServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.01}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> EvalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self) -> None:
        self.released.set()

    def wait_for_posts(self, n: int, timeout: float = 10.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: self.posts >= n, timeout)

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method == "POST":
            with self.arrived:
                self.posts += 1
                self.arrived.notify_all()
            with self._lock:
                if self.max_concurrent is not None and self.active >= self.max_concurrent:
                    self.rejected += 1
                    return 429, {"Content-Type": "application/json",
                                 "Retry-After": self.retry_after}, json.dumps(
                        {"error": {"message": "Too many concurrent requests",
                                   "type": "rate_limit_error"}}).encode()
                self.active += 1
                self.peak = max(self.peak, self.active)
            try:
                return self._answer(method, path, headers, body)
            finally:
                with self._lock:
                    self.active -= 1
        return self._answer(method, path, headers, body)

    def _answer(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The answer is worked out first, then sent `delay` seconds after the request came
        in: the delay is the whole answer time, as a benchmark's ideal assumes."""
        arrived = time.monotonic()
        self.released.wait()
        reply = self._reply(method, path, headers, body)
        if self.delay:
            self.stopping.wait(max(0.0, arrived + self.delay - time.monotonic()))
        return reply

    def _reply(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            model = json.loads(body).get("model", "") if body else ""
        except (ValueError, AttributeError):
            model = ""
        if model == "fault-500":
            return 500, {"Content-Type": "application/json"}, json.dumps(
                {"error": {"message": "The server had an error", "type": "server_error"}}
            ).encode()
        request = httpx.Request(method, f"http://127.0.0.1{path}", headers=headers,
                                content=body)
        response = self._demo.handle_request(request)
        content = response.read()
        kept = {k: v for k, v in response.headers.items()
                if k.lower() in ("content-type", "x-request-id")}
        return response.status_code, kept, content


def main(argv: list[str] | None = None) -> None:
    """Standalone (benchmarks run it in its own process, so its work does not share the
    measured process's interpreter): prints its base URL, serves until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--max-concurrent", type=int, default=None)
    parser.add_argument("--retry-after", default="0.1")
    args = parser.parse_args(argv)
    server = EvalServer(delay=args.delay, max_concurrent=args.max_concurrent,
                        retry_after=args.retry_after).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
        sys.exit(0)


if __name__ == "__main__":
    main()
