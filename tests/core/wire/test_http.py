"""Retry policy, Retry-After reading and error-body reading, as plain functions.

These are the rules run_turn relies on; test_turn.py checks them end to end over HTTP.
"""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from core.wire import errors
from core.wire.http import (
    RETRY_STATUSES,
    RetryPolicy,
    Timeouts,
    request_id_of,
    retry_after_seconds,
)


def headers(**values: str) -> httpx.Headers:
    return httpx.Headers({name.replace("_", "-"): value for name, value in values.items()})


# --- RetryPolicy ------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_delay() -> None:
    policy = RetryPolicy(max_retries=4, base_delay=0.5, max_delay=8.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, base_delay=0.5, max_delay=8.0)
    assert policy.delay(6, None) == 8.0
    assert policy.delay(10, httpx.Headers()) == 8.0


def test_no_retry_past_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(2, None) is not None
    assert policy.delay(3, None) is None
    assert policy.delay(3, headers(retry_after="1")) is None
    assert RetryPolicy(max_retries=0).delay(1, None) is None


def test_short_retry_after_is_honoured_even_when_longer_than_the_backoff() -> None:
    assert RetryPolicy().delay(1, headers(retry_after="7")) == 7.0


def test_retry_after_over_the_limit_means_do_not_retry() -> None:
    policy = RetryPolicy(max_retry_after=20.0)
    assert policy.delay(1, headers(retry_after="20")) == 20.0
    assert policy.delay(1, headers(retry_after="21")) is None


def test_retry_after_zero_retries_at_once() -> None:
    assert RetryPolicy().delay(1, headers(retry_after="0")) == 0.0


def test_retry_statuses_are_the_documented_ones() -> None:
    """docs/architecture.md, "Wire details": retry 408/409/429/5xx (and Anthropic's 529);
    never 400/401/403/404/422."""
    assert {408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529} <= RETRY_STATUSES
    assert not {400, 401, 403, 404, 413, 422, 501, 505} & RETRY_STATUSES


# --- retry_after_seconds ----------------------------------------------------------------------


@pytest.mark.parametrize(("values", "seconds"), [
    ({"retry_after": "3"}, 3.0),
    ({"retry_after": "1.5"}, 1.5),
    ({"retry_after_ms": "250"}, 0.25),
    ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),
    ({"retry_after_ms": "later", "retry_after": "9"}, 9.0),
    ({"retry_after": "-4"}, 0.0),
    ({"retry_after_ms": "-4"}, 0.0),
    ({}, None),
    ({"retry_after": ""}, None),
])
def test_retry_after_seconds(values: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers(**values)) == seconds


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(headers(retry_after=when))
    assert seconds is not None and 25.0 <= seconds <= 30.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    assert retry_after_seconds(headers(retry_after="Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0


@pytest.mark.parametrize("value", ["soon", "1s", "Wed, 99 Foo 2015"])
def test_unparseable_retry_after_is_ignored(value: str) -> None:
    """Regression (fixed in c886463): raised ValueError on Python >= 3.10."""
    assert retry_after_seconds(headers(retry_after=value)) is None


# --- small pieces -----------------------------------------------------------------------------


def test_request_id_from_any_of_the_usual_headers() -> None:
    assert request_id_of(headers(x_request_id="req_1")) == "req_1"
    assert request_id_of(headers(request_id="req_2")) == "req_2"
    assert request_id_of(headers(cf_ray="8f00-IAD")) == "8f00-IAD"
    assert request_id_of(httpx.Headers()) is None


def test_timeouts_idle_is_the_read_timeout() -> None:
    """The idle timeout is what ends a stalled stream: httpx applies `read` to every read."""
    timeout = Timeouts(connect=2.0, idle=0.3, write=5.0).to_httpx()
    assert (timeout.connect, timeout.read, timeout.write) == (2.0, 0.3, 5.0)


# --- error bodies and messages ----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message", "type_", "code"), [
    (b'{"error": {"message": "bad key", "type": "invalid_request_error", "param": null, '
     b'"code": "invalid_api_key"}}', "bad key", "invalid_request_error", "invalid_api_key"),
    (b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
     "Overloaded", "overloaded_error", None),
    (b'{"object": "error", "message": "no such model", "type": "NotFoundError", "code": 404}',
     "no such model", "NotFoundError", "404"),
    (b'{"error": "plain string"}', "plain string", None, None),
    (b'{"detail": "Not Found"}', "Not Found", None, None),
    (b"upstream request timeout", "upstream request timeout", None, None),
], ids=["openai", "anthropic", "bare", "string", "detail", "text"])
def test_read_error_body_shapes(raw: bytes, message: str, type_: str | None,
                                code: str | None) -> None:
    assert errors.read_error_body(raw) == errors.ErrorBody(message, type_, code)


def test_read_error_body_html_is_summarised_by_its_title() -> None:
    body = errors.read_error_body(
        b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
        b"<body>nginx</body></html>")
    assert body is not None and body.type == "html"
    assert "titled “503 Service Temporarily Unavailable”" in body.message
    assert "proxy" in body.message


@pytest.mark.parametrize("raw", [b"", b"   \n", b"{}", b'{"error": {"type": "x"}}'])
def test_read_error_body_with_nothing_to_say(raw: bytes) -> None:
    assert errors.read_error_body(raw) is None


@pytest.mark.parametrize(("status", "words"), [
    (400, ["400", "invalid", "every tool call needs a result"]),
    (401, ["401", "API key was rejected", "MY_KEY_ENV"]),
    (403, ["403", "forbidden"]),
    (404, ["404", "base URL", "/v1"]),
    (413, ["413", "too large"]),
    (429, ["429", "rate limited", "Retry"]),
    (500, ["500", "server failed", "Retry"]),
    (503, ["503", "server failed"]),
    (529, ["529", "overloaded"]),
    (418, ["418", "Check the request"]),
])
def test_status_error_names_the_status_and_what_to_do(status: int, words: list[str]) -> None:
    error = errors.status_error(status, b'{"error": {"message": "from the server"}}',
                                request_id="req_9", key_env="MY_KEY_ENV")
    assert error.status == status
    assert error.request_id == "req_9"
    assert error.detail == "It said: from the server"
    for word in words:
        assert word in str(error)


def test_status_error_counts_attempts_only_after_retries() -> None:
    first = errors.status_error(500, b"", request_id=None, key_env="K")
    third = errors.status_error(500, b"", request_id=None, key_env="K", retried=2)
    assert "attempts" not in str(first)
    assert "(after 3 attempts)" in str(third)
    assert first.detail == ""
