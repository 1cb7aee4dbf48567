"""MCP server configuration in the file format people already have (Claude Desktop, Cursor,
VS Code): `{"mcpServers": {"name": {"command", "args", "env"} | {"url", "headers"}}}`.

`${NAME}` references are kept as written: they are resolved only when a server is started
(`resolved`), so a secret never reaches the file, the page, the database or a log through us.
Keys Toolsmith does not know are kept when the file is written back.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.bounded import Limits, ParseError, parse_json

CONFIG_ENV = "TOOLSMITH_MCP_CONFIG"
DEFAULT_TIMEOUT_S = 60.0
MAX_CONFIG_BYTES = 1_000_000
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME_RULE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KNOWN = {"command", "args", "env", "cwd", "url", "headers", "timeout", "type"}


class McpConfigError(ValueError):
    """The file cannot be read or written; the message says which and why."""


class MissingVariable(ValueError):
    """A `${NAME}` reference names an environment variable that is not set."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(f"${{{n}}}" for n in names)
        super().__init__(f"the environment variable{'s' if len(names) > 1 else ''} {listed} "
                         f"{'are' if len(names) > 1 else 'is'} not set (the configuration "
                         "refers to it); set it where Toolsmith runs and Reconnect")


@dataclass(frozen=True)
class McpServerConfig:
    """One configured server: a command started over stdio, or a streamable-HTTP URL."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    extra: tuple[tuple[str, str], ...] = ()  # unknown keys, as JSON text, written back as is

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def target(self) -> str:
        """Where it runs, fit to show: the command line or the URL, `${…}` left unresolved."""
        if self.url:
            return self.url
        return " ".join([self.command, *self.args])

    def references(self) -> list[str]:
        """Every `${NAME}` this server refers to, in order."""
        texts = [self.command, *self.args, self.url, self.cwd or "",
                 *(v for _, v in self.env), *(v for _, v in self.headers)]
        return list(dict.fromkeys(m for t in texts for m in ENV_REF.findall(t)))


@dataclass
class McpConfig:
    path: Path
    servers: list[McpServerConfig] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # said on the page, never raised
    raw: dict[str, Any] = field(default_factory=dict)  # the whole file, for writing back


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """TOOLSMITH_MCP_CONFIG, else mcp.json in the data directory."""
    environ = os.environ if environ is None else environ
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    data_dir = Path(environ.get("TOOLSMITH_DATA_DIR") or Path.home() / ".toolsmith")
    return data_dir.expanduser() / "mcp.json"


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


def _pairs(value: Any, what: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} must be an object of strings")
    return tuple((str(k), v) for k, v in value.items())


def parse_server(name: str, raw: Any) -> McpServerConfig:
    """One entry of `mcpServers`; raises ValueError with a message fit for the page."""
    if not NAME_RULE.match(name):
        raise ValueError("a server name is 1-64 letters, digits, '_', '-' or '.'")
    if not isinstance(raw, dict):
        raise ValueError("an entry must be an object with 'command' or 'url'")
    command, url = raw.get("command", ""), raw.get("url", "")
    if not isinstance(command, str) or not isinstance(url, str):
        raise ValueError("'command' and 'url' must be strings")
    if bool(command.strip()) == bool(url.strip()):
        raise ValueError("give either 'command' (a program started over stdio) or 'url' (a "
                         "streamable-HTTP endpoint), not both and not neither")
    if raw.get("type") == "sse":
        raise ValueError("the legacy SSE transport is not supported; use the server's "
                         "streamable-HTTP endpoint (usually …/mcp)")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise ValueError("'timeout' must be a number of seconds between 0 and 3600")
    cwd = raw.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise ValueError("'cwd' must be a string")
    return McpServerConfig(
        name=name, command=command.strip(), args=_strings(raw.get("args", []), "'args'"),
        env=_pairs(raw.get("env", {}), "'env'"), cwd=cwd, url=url.strip(),
        headers=_pairs(raw.get("headers", {}), "'headers'"), timeout_s=float(timeout),
        extra=tuple((k, json.dumps(v)) for k, v in raw.items() if k not in _KNOWN))


def server_entry(server: McpServerConfig) -> dict[str, Any]:
    """The JSON entry of one server, as written to the file (references unresolved)."""
    entry: dict[str, Any] = {k: json.loads(v) for k, v in server.extra}
    if server.url:
        entry["url"] = server.url
        if server.headers:
            entry["headers"] = dict(server.headers)
    else:
        entry["command"] = server.command
        entry["args"] = list(server.args)
        if server.env:
            entry["env"] = dict(server.env)
        if server.cwd:
            entry["cwd"] = server.cwd
    if server.timeout_s != DEFAULT_TIMEOUT_S:
        entry["timeout"] = server.timeout_s
    return entry


def load_config(path: Path) -> McpConfig:
    """The servers in the file; a missing file is an empty configuration, a broken one is
    reported (its problems listed) and never overwritten by accident."""
    config = McpConfig(path=path)
    try:
        if not path.exists():
            return config
        if path.stat().st_size > MAX_CONFIG_BYTES:
            config.problems.append(f"{path} is larger than 1 MB; it was not read")
            return config
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        config.problems.append(f"{path} could not be read: {exc.__class__.__name__}")
        return config
    try:  # the one bounded parse for files (core.bounded): no RecursionError, no NaN
        data = parse_json(text, Limits(MAX_CONFIG_BYTES, max_depth=32)) if text.strip() else {}
    except ParseError as exc:
        config.problems.append(f"{path} is not valid JSON: {exc}")
        return config
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        config.problems.append(f'{path} must hold an object {{"mcpServers": {{…}}}}')
        return config
    config.raw = data
    for name, raw in data.get("mcpServers", {}).items():
        try:
            config.servers.append(parse_server(name, raw))
        except ValueError as exc:
            config.problems.append(f"server {name!r}: {exc}")
    return config


def save_servers(config: McpConfig, servers: list[McpServerConfig]) -> None:
    """Write the servers back, keeping the rest of the file (and entries that did not parse).

    Refuses to write over a file that could not be read, so nothing of it is lost."""
    if any(not p.startswith("server ") for p in config.problems):
        raise McpConfigError(f"{config.path} has problems (see above); fix or move it first, "
                             "so it is not overwritten")
    data = dict(config.raw)
    kept = {name: raw for name, raw in data.get("mcpServers", {}).items()
            if name not in {s.name for s in config.servers}}  # entries that did not parse
    data["mcpServers"] = {**kept, **{s.name: server_entry(s) for s in servers}}
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        config.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = config.path.with_name(config.path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, config.path)
    except OSError as exc:
        raise McpConfigError(f"{config.path} could not be written: {exc.strerror or exc}") \
            from None


def resolve_text(text: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` replaced by the variable's value; raises MissingVariable naming what is unset."""
    missing = [n for n in ENV_REF.findall(text) if n not in environ]
    if missing:
        raise MissingVariable(list(dict.fromkeys(missing)))
    return ENV_REF.sub(lambda m: environ[m.group(1)], text)


def resolved(server: McpServerConfig, environ: Mapping[str, str]) -> McpServerConfig:
    """A copy with every reference resolved: used only to start the server, never stored."""
    missing = [n for n in server.references() if n not in environ]
    if missing:
        raise MissingVariable(missing)
    return replace(
        server, command=resolve_text(server.command, environ),
        args=tuple(resolve_text(a, environ) for a in server.args),
        env=tuple((k, resolve_text(v, environ)) for k, v in server.env),
        cwd=resolve_text(server.cwd, environ) if server.cwd else None,
        url=resolve_text(server.url, environ),
        headers=tuple((k, resolve_text(v, environ)) for k, v in server.headers))


def secret_values(server: McpServerConfig, environ: Mapping[str, str]) -> list[str]:
    """Values that must never be shown: those of referenced variables, and literal env and
    header values (a token typed straight into the file is a secret too)."""
    values = [environ[n] for n in server.references() if environ.get(n)]
    values += [v for _, v in (*server.env, *server.headers) if v and not ENV_REF.fullmatch(v)]
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact_secrets(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[secret redacted]")
    return text


def shown_value(value: str) -> str:
    """A header or env value for the page: a `${NAME}` reference as is, a literal hidden."""
    return value if ENV_REF.fullmatch(value) else "•••• (literal value hidden)"
