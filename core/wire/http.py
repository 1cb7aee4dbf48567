"""httpx plumbing: explicit timeouts, the retry policy, and HTTP failures mapped to core errors.

The read timeout doubles as the stream's idle timeout: httpx applies it to every read, so a
stream that stops sending for that long fails instead of hanging forever.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from core import egress
from core.types import Attempt
from core.wire import errors

# docs/architecture.md ("Wire details"): 408, 409, 429 and the 5xx family (incl. Cloudflare's
# 520-524 and Anthropic's 529).
# 501 and 505 say the server cannot do this request at all, so a retry cannot help.
RETRY_STATUSES = frozenset({408, 409, 429, *(s for s in range(500, 600) if s not in (501, 505))})


@dataclass(frozen=True)
class Timeouts:
    """connect/idle/write as httpx applies them; `keepalive`: how long a stream may send only
    `:` comments (or stray bytes) and no event before it counts as stalled; `deadline`: how
    long a whole answer may take, however steadily it trickles in."""

    connect: float = 10.0
    idle: float = 60.0
    write: float = 30.0
    keepalive: float = 180.0
    deadline: float = 900.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.idle, write=self.write,
                             pool=self.connect)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff; a server's Retry-After is honoured when it is short."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 20.0

    def delay(self, retry_number: int, headers: httpx.Headers | None) -> float | None:
        """Seconds to wait before retry `retry_number` (1-based); None: do not retry."""
        if retry_number > self.max_retries:
            return None
        asked = retry_after_seconds(headers) if headers is not None else None
        if asked is not None:
            return asked if asked <= self.max_retry_after else None
        return min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """`retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # neither seconds nor a date: RFC 9110 says ignore it
    return max(0.0, parsed.timestamp() - time.time())


def make_client(timeouts: Timeouts, transport: httpx.BaseTransport | None = None,
                policy: egress.EgressPolicy | None = None) -> httpx.Client:
    """A client for model servers. Redirects are followed by open_response, which keeps
    credentials to their origin; connections obey the egress policy (the process's unless
    given), so a team server refuses internal addresses after DNS resolution."""
    if transport is None:
        transport = egress.guarded_transport(policy)
    return httpx.Client(timeout=timeouts.to_httpx(), transport=transport, follow_redirects=False)


MAX_REDIRECTS = 5
# Headers that carry credentials in the formats and gateways Toolsmith speaks to. httpx strips
# only Authorization across origins; Anthropic's x-api-key would go along.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key",
                                "x-goog-api-key", "cookie"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (RFC 6454): a key belongs to the origin it was configured for."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def redirected(request: httpx.Request, response: httpx.Response,
               secret: str = "") -> tuple[httpx.Request, bool]:
    """The request a 3xx asks for, and whether credentials were left behind.

    307/308 repeat the method and body; 303 (and 301/302 after a POST, as browsers do) become
    a GET. Across origins every credential header stays behind, and so does any header that
    holds the key.
    """
    url = request.url.join(response.headers["location"])
    method = request.method
    status = response.status_code
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    headers = httpx.Headers(request.headers)
    del headers["host"]  # recomputed for the new URL
    dropped = False
    if origin_of(url) != origin_of(request.url):
        for name in list(headers.keys()):
            if name.lower() in CREDENTIAL_HEADERS or (secret and secret in headers[name]):
                del headers[name]
                dropped = True
    content = request.content
    if method != request.method:
        content = b""
        for name in ("content-length", "content-type", "transfer-encoding"):
            if name in headers:
                del headers[name]
    return httpx.Request(method, url, headers=headers, content=content,
                         extensions=request.extensions), dropped


@dataclass
class _Sent:
    response: httpx.Response
    key_left_at: str = ""  # the origin a redirect led to, when the key was not sent there


def _send(client: httpx.Client, request: httpx.Request, secret: str) -> _Sent:
    """client.send, following up to MAX_REDIRECTS redirects without leaking credentials."""
    left_at = ""
    policy = egress.policy_of(client)
    policy.check_url(request.url)
    for _ in range(MAX_REDIRECTS + 1):
        response = client.send(request, stream=True, follow_redirects=False)
        if not (response.is_redirect and response.headers.get("location")):
            return _Sent(response, left_at)
        response.close()
        origin = request.url
        request, dropped = redirected(request, response, secret)
        policy.check_redirect(origin, request.url)
        if dropped:
            left_at = f"{request.url.scheme}://{request.url.netloc.decode()}"
    raise errors.ConnectError(
        f"The server redirected the request more than {MAX_REDIRECTS} times (last to "
        f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}). Check the "
        "base URL: use the address the redirects lead to.")


@dataclass
class RetryNotice:
    """Told to the page before a retry, so it can say what is happening."""

    retry_number: int
    max_retries: int
    delay_s: float
    reason: str


REQUEST_ID_HEADERS = ("x-request-id", "request-id", "openai-request-id", "cf-ray")


_KEPT_HEADER_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "ratelimit-")
_KEPT_HEADERS = {*REQUEST_ID_HEADERS, "retry-after", "retry-after-ms", "openai-processing-ms",
                 "openai-model", "openai-version", "content-type", "server"}


def notable_headers(headers: httpx.Headers) -> dict[str, str]:
    """Response headers worth showing: request ids, rate limits, retry hints, server."""
    return {name: value for name, value in headers.items()
            if name in _KEPT_HEADERS or name.startswith(_KEPT_HEADER_PREFIXES)}


def request_id_of(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if headers.get(name):
            return headers[name]
    return None


def open_response(
    client: httpx.Client,
    request: httpx.Request,
    *,
    policy: RetryPolicy,
    attempts: list[Attempt],
    key_env: str,
    on_retry: Callable[[RetryNotice], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    secret: str = "",
    retries_spent: int = 0,
) -> httpx.Response:
    """Send with retries until a 2xx response whose body is still unread (stream=True).

    Retries 408/409/429/5xx/529 and refused connections; a read timeout is not retried
    (the user waited long enough already and can press Retry). `retries_spent`: retries the
    caller already made for this turn (a broken stream), which count against the same policy.
    """
    retry_number = retries_spent
    while True:
        attempt = Attempt(started_at=time.time())
        attempts.append(attempt)
        try:
            sent = _send(client, request, secret)
            response = sent.response
        except egress.EgressRefused:
            attempt.error = "refused by the egress policy"
            raise
        except httpx.ConnectError as exc:
            attempt.error = "connection failed"
            failure: errors.ToolsmithError = errors.ConnectError(
                f"Could not connect to {request.url.scheme}://{request.url.netloc.decode()}: "
                "nothing answered there. Check the base URL and that the server is running.",
                detail=_short(exc),
            )
            headers = None
        except httpx.TimeoutException as exc:
            attempt.error = "timeout"
            raise errors.TimeoutError_(
                f"The server at {request.url.netloc.decode()} did not answer in time. "
                "Retry, or raise the timeout in the sidebar.",
                detail=_short(exc),
            ) from None
        except httpx.HTTPError as exc:
            attempt.error = type(exc).__name__
            raise errors.ConnectError(
                "The request failed before an answer arrived. Check the base URL and retry.",
                detail=_short(exc),
            ) from None
        else:
            attempt.status = response.status_code
            attempt.answered_at = time.time()
            if response.status_code < 400:
                return response
            raw = _read_quietly(response)
            if secret and secret.encode() in raw:  # before any excerpt cuts it in two
                raw = raw.replace(secret.encode(), b"[API key redacted]")
            headers = response.headers
            failure = errors.status_error(
                response.status_code, raw, request_id=request_id_of(response.headers),
                key_env=key_env, retried=retry_number,
                key_sent=bool(secret) and not sent.key_left_at,
            )
            if sent.key_left_at:
                failure.message += (
                    f" The request was redirected to {sent.key_left_at}, another address, so "
                    "the API key was not sent there. If you trust that server, use it as "
                    "the base URL.")
            if response.status_code not in RETRY_STATUSES:
                raise failure
        retry_number += 1
        delay = policy.delay(retry_number, headers)
        if delay is None:
            asked = retry_after_seconds(headers) if headers is not None else None
            if asked is not None and asked > policy.max_retry_after:
                failure.message += (f" The server asks to wait {_duration(asked)} before "
                                    "trying again (Retry-After), so Toolsmith did not wait.")
            raise failure
        attempt.retry_after_s = delay
        if on_retry is not None:
            on_retry(RetryNotice(retry_number, policy.max_retries, delay, failure.message))
        sleep(delay)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def _read_quietly(response: httpx.Response) -> bytes:
    try:
        return response.read()[:65536]
    except httpx.HTTPError:
        return b""
    finally:
        response.close()


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"({text[:200]})"
