"""HTTP tools: templates filled from the call's arguments, `${ENV}` secrets resolved only in
the request (never in what is kept), answers read as JSON, images or errors; against a real
HTTP server on 127.0.0.1 and the demo model's images endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from core.config import DEMO_BASE_URL
from core.demo.transport import DemoTransport
from core.tools.http_tool import images_of, prepare, run_problems, send
from core.tools.mcp_config import MissingVariable

RUN = {"http": {"method": "POST", "url": "{base}/things/{city}?q={query}",
                "headers": {"Authorization": "Bearer ${TOOL_TOKEN}", "X-City": "{city}"},
                "body": {"query": "{query}", "limit": "{limit}", "note": "for {city}",
                         "fixed": 3}}}


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"path": self.path, "auth": self.headers["Authorization"],
                             "body": json.loads(body)}).encode()
        status = 500 if b"boom" in body else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_arguments_and_secrets_are_substituted_and_typed(echo):
    call = prepare(RUN, {"city": "São Paulo", "query": "a/b", "limit": 5}, base=echo,
                   environ={"TOOL_TOKEN": "tok-secret-42"})
    assert call.url == f"{echo}/things/S%C3%A3o%20Paulo?q=a%2Fb"
    assert call.body == {"query": "a/b", "limit": 5, "note": "for São Paulo", "fixed": 3}
    assert call.shown_headers["Authorization"] == "Bearer $TOOL_TOKEN"
    with httpx.Client() as client:
        answer = send(call, client)
    assert answer.status == 200 and not answer.is_error
    echoed = json.loads(answer.text)
    assert echoed["auth"] == "Bearer [secret redacted]"  # an echoed secret is not kept
    assert echoed["body"]["limit"] == 5
    assert "tok-secret-42" not in json.dumps(answer.kept)


def test_a_left_out_argument_is_dropped_and_a_needed_one_is_named(echo):
    call = prepare(RUN, {"city": "Rome", "query": "x"}, base=echo, environ={"TOOL_TOKEN": "t"})
    assert "limit" not in call.body
    with pytest.raises(ValueError, match="argument 'city'"):
        prepare(RUN, {"query": "x"}, base=echo, environ={"TOOL_TOKEN": "t"})
    with pytest.raises(MissingVariable, match=r"\$\{TOOL_TOKEN\}"):
        prepare(RUN, {"city": "Rome", "query": "x"}, base=echo, environ={})


def test_errors_are_error_results(echo):
    with httpx.Client() as client:
        failed = send(prepare(RUN, {"city": "Rome", "query": "boom"}, base=echo,
                              environ={"TOOL_TOKEN": "t"}), client)
        assert failed.is_error and failed.text.startswith("HTTP 500:")
        down = send(prepare(RUN, {"city": "Rome", "query": "x"}, base="http://127.0.0.1:9",
                            environ={"TOOL_TOKEN": "t"}), client)
    assert down.is_error and down.status is None and "failed" in down.error


def test_generate_image_against_the_demo_model():
    from core.tools.library import load_library
    from tests.support.mcp_servers import ROOT

    (spec,) = [e.spec for e in load_library(ROOT / "tools") if e.spec
               and e.spec.name == "generate_image"]
    call = prepare(spec.run, {"prompt": "a red fox"}, base=DEMO_BASE_URL,
                   environ={"OPENAI_API_KEY": "demo"})
    assert call.body == {"model": "gpt-image-1", "prompt": "a red fox", "n": 1}
    with httpx.Client(transport=DemoTransport()) as client:
        answer = send(call, client)
    assert answer.status == 200
    ((mime, data),) = answer.images
    assert mime == "image/png" and data.startswith(b"\x89PNG")
    assert "[image 1:" in answer.text and "b64_json" in answer.text
    assert images_of(answer.kept)[0][1] == data


@pytest.mark.parametrize(("run", "message"), [
    ({"http": {"url": "x", "method": "FETCH"}}, "method must be one of"),
    ({"http": {"method": "GET"}}, "url is required"),
    ({"http": {"url": "x", "headers": {"A": 1}}}, "headers must map"),
    ({"shell": "rm -rf"}, "run must be {http:"),
])
def test_bad_run_blocks_are_named(run, message):
    assert message in run_problems(run)[0][0]
