"""A real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock, from PyPI) for sign-in tests.

It runs as its own process, like a real identity provider: discovery, authorize (a form where a
predefined user is picked), token, JWKS and end-session endpoints. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Person:
    sub: str
    email: str
    name: str


@dataclass
class Provider:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"


def auth_secrets(provider: Provider, app_port: int, *, admins: list[str] | None = None,
                 allowed_domains: list[str] | None = None, extra: str = "") -> str:
    """The `[auth]` section that turns team mode on for an app on `app_port`."""
    lines = ["[auth]",
             f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"',
             'cookie_secret = "team-mode-test-cookie-secret-0123456789abcdef"',
             'client_id = "toolsmith"', 'client_secret = "toolsmith-secret"',
             f'server_metadata_url = "{provider.metadata_url}"']
    if admins is not None:
        lines.append(f"admins = {json.dumps(admins)}")
    if allowed_domains is not None:
        lines.append(f"allowed_domains = {json.dumps(allowed_domains)}")
    return "\n".join(lines) + "\n" + extra


@contextmanager
def oidc_provider(port: int, people: list[Person], log_path: Path) -> Iterator[Provider]:
    args = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    for person in people:
        args += ["--user-claims", json.dumps({"sub": person.sub, "email": person.email,
                                              "name": person.name})]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    provider = Provider(port, process)
    try:
        _wait(provider, log_path)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait(provider: Provider, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(provider.metadata_url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            try:
                code = provider.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"oidc-provider-mock exited with {code}:\n"
                                 f"{log_path.read_text(errors='replace')}")
    raise AssertionError("oidc-provider-mock did not start:\n" + log_path.read_text())
