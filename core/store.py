"""Persistence: sessions, messages (with tool calls and results) and exchanges, in SQL.

SQLAlchemy Core over SQLite by default (a file under TOOLSMITH_DATA_DIR, WAL mode) or PostgreSQL
by URL for a shared deployment. The schema is an ordered list of migrations, applied at start and
recorded in `schema_migrations`, so an older database is brought forward in place.

Secrets never get here: request bodies carry no key, and headers are stored masked.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import yaml
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from core.conversation import Conversation
from core.tools.library import program_problems
from core.tools.schemas import ToolFileError
from core.types import Attempt, Exchange, Message, ToolCall, ToolImage, Usage, new_id

# --- Schema ------------------------------------------------------------------------------------
# DDL is written once per migration in SQL both SQLite and PostgreSQL accept; the Table objects
# below describe the schema after the last migration and are used for every query.

_MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "sessions, messages and exchanges", [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL, provider TEXT, model TEXT,
            settings_json TEXT, tools_json TEXT)""",
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id)
            ON DELETE CASCADE, position INTEGER NOT NULL, role TEXT NOT NULL,
            content TEXT NOT NULL, tool_calls_json TEXT, tool_call_id TEXT, name TEXT,
            is_error INTEGER NOT NULL DEFAULT 0, reasoning TEXT, usage_json TEXT,
            finish_reason TEXT, exchange_id TEXT, created_at DOUBLE PRECISION NOT NULL)""",
        "CREATE UNIQUE INDEX messages_by_session ON messages (session_id, position)",
        """CREATE TABLE exchanges (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id)
            ON DELETE CASCADE, provider TEXT NOT NULL, model TEXT NOT NULL,
            base_url TEXT NOT NULL, base_url_host TEXT NOT NULL, stream INTEGER NOT NULL,
            started_at DOUBLE PRECISION NOT NULL, first_byte_at DOUBLE PRECISION,
            first_token_at DOUBLE PRECISION, ended_at DOUBLE PRECISION, status INTEGER,
            request_id TEXT, error TEXT, error_kind TEXT, request_json TEXT NOT NULL,
            request_headers_json TEXT, response_json TEXT, transcript TEXT,
            attempts_json TEXT, prompt_tokens INTEGER, cached_tokens INTEGER,
            completion_tokens INTEGER, reasoning_tokens INTEGER, total_tokens INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0)""",
    ]),
    (2, "indexes for the History and Usage pages", [
        "CREATE INDEX exchanges_by_time ON exchanges (started_at)",
        "CREATE INDEX exchanges_by_session ON exchanges (session_id)",
        "CREATE INDEX sessions_by_update ON sessions (updated_at)",
    ]),
    (3, "request URL and notable response headers of each exchange", [
        "ALTER TABLE exchanges ADD COLUMN url TEXT",
        "ALTER TABLE exchanges ADD COLUMN response_headers_json TEXT",
    ]),
    (4, "wire format of each exchange; exchanges copied by a fork", [
        "ALTER TABLE exchanges ADD COLUMN wire TEXT",
        "ALTER TABLE exchanges ADD COLUMN copied_from TEXT",
    ]),
    (5, "tool results typed but not sent yet", [
        """CREATE TABLE result_drafts (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            call_id TEXT NOT NULL, content TEXT NOT NULL, is_error INTEGER NOT NULL DEFAULT 0,
            updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (session_id, call_id))""",
    ]),
    (6, "prompt tokens written to a cache (Anthropic's cache_creation_input_tokens)", [
        "ALTER TABLE exchanges ADD COLUMN cache_write_tokens INTEGER",
    ]),
    (7, "eval runs and their results; eval traffic marked on sessions and exchanges", [
        "ALTER TABLE sessions ADD COLUMN kind TEXT",
        "ALTER TABLE exchanges ADD COLUMN eval_run_id TEXT",
        """CREATE TABLE eval_runs (
            id TEXT PRIMARY KEY, suite_name TEXT NOT NULL, suite_path TEXT,
            suite_source TEXT NOT NULL, tools_json TEXT NOT NULL, settings_json TEXT NOT NULL,
            targets_json TEXT NOT NULL, repeats INTEGER NOT NULL, concurrency INTEGER NOT NULL,
            total_cells INTEGER NOT NULL, status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION, note TEXT)""",
        "CREATE INDEX eval_runs_by_time ON eval_runs (created_at)",
        """CREATE TABLE eval_results (
            run_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
            case_name TEXT NOT NULL, target TEXT NOT NULL, repeat INTEGER NOT NULL,
            status TEXT NOT NULL, failures_json TEXT, calls_json TEXT, answer TEXT,
            error TEXT, exchange_id TEXT, latency_s DOUBLE PRECISION, total_tokens INTEGER,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, case_name, target, repeat))""",
    ]),
    # "provider" used to be the wire format's name (or "demo"); the wire format has had its own
    # column since 4, so provider now says who served the request: "demo" or the base URL's
    # host (core.config.provider_of), which keeps the Usage page's "by provider" meaningful
    # when one format is spoken to several servers, or one server in several formats.
    (8, "provider is the server that answered, not the wire format", [
        "UPDATE exchanges SET wire = provider WHERE wire IS NULL "
        "AND provider IN ('openai', 'anthropic')",
        "UPDATE exchanges SET provider = base_url_host WHERE provider IN ('openai', 'anthropic')",
        "UPDATE sessions SET provider = COALESCE((SELECT e.base_url_host FROM exchanges e "
        "WHERE e.session_id = sessions.id ORDER BY e.started_at DESC LIMIT 1), provider) "
        "WHERE provider IN ('openai', 'anthropic')",
    ]),
    # A request made for another purpose than the chat's next turn ("simulate": a simulated
    # tool result), marked in the inspector and on the Usage page.
    (9, "purpose of an exchange (simulated tool results)", [
        "ALTER TABLE exchanges ADD COLUMN purpose TEXT",
    ]),
    (10, "images a tool returned, sent with its result", [
        "ALTER TABLE messages ADD COLUMN images_json TEXT",
    ]),
    # Team mode: each session and eval run belongs to the signed-in user who made it (NULL:
    # made in local mode); a session its owner shares can be opened (read-only) by teammates.
    (11, "owner of each session and eval run; shared sessions", [
        "ALTER TABLE sessions ADD COLUMN owner TEXT",
        "ALTER TABLE sessions ADD COLUMN shared INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE eval_runs ADD COLUMN owner TEXT",
        "CREATE INDEX sessions_by_owner ON sessions (owner, updated_at)",
    ]),
    # What a wire format needs back or shows beside a message, kept as the format gave it:
    # OpenAI Responses' encrypted reasoning items (sent back in front of the calls they led to)
    # and the tools a server ran itself (shown, never answered).
    (12, "wire state of a message: reasoning items, server-side tool activity", [
        "ALTER TABLE messages ADD COLUMN wire_state_json TEXT",
    ]),
    # Team mode: a person's own tools (tools/ is the team's shared library, kept by admins).
    (13, "each person's own tools", [
        """CREATE TABLE user_tools (
            owner TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (owner, name))""",
    ]),
    # A branch (Edit and send, Branch, History's fork) names the session it came from, so the
    # way back is shown whenever the branch is open and in its History row, not only in the
    # tab that made it.
    (14, "the session a branch came from", [
        "ALTER TABLE sessions ADD COLUMN branched_from TEXT",
    ]),
]
SCHEMA_VERSION = _MIGRATIONS[-1][0]
# Exchanges that record a tool run (an MCP call, an HTTP tool's request), not a model request:
# kept with the conversation, left out of request counts and the Usage page.
TOOL_RUN_WIRES = ("mcp", "http-tool")

metadata = sa.MetaData()
migrations_table = sa.Table(
    "schema_migrations", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text), sa.Column("applied_at", sa.Float),
)
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("title", sa.Text),
    sa.Column("created_at", sa.Float), sa.Column("updated_at", sa.Float),
    sa.Column("provider", sa.Text), sa.Column("model", sa.Text),
    sa.Column("settings_json", sa.Text), sa.Column("tools_json", sa.Text),
    sa.Column("kind", sa.Text),  # "eval" (an eval run's requests), "tools" (Generate); NULL: a chat
    sa.Column("owner", sa.Text),  # the signed-in user's email in team mode; NULL in local mode
    sa.Column("shared", sa.Integer),  # 1: teammates may open it read-only (and fork it)
    sa.Column("branched_from", sa.Text),  # the session this one is a branch of, if any
)
messages = sa.Table(
    "messages", metadata,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("session_id", sa.Text),
    sa.Column("position", sa.Integer), sa.Column("role", sa.Text), sa.Column("content", sa.Text),
    sa.Column("tool_calls_json", sa.Text), sa.Column("tool_call_id", sa.Text),
    sa.Column("name", sa.Text), sa.Column("is_error", sa.Integer),
    sa.Column("reasoning", sa.Text), sa.Column("usage_json", sa.Text),
    sa.Column("finish_reason", sa.Text), sa.Column("exchange_id", sa.Text),
    sa.Column("created_at", sa.Float), sa.Column("images_json", sa.Text),
    sa.Column("wire_state_json", sa.Text),
)
USAGE_COLUMNS = ("prompt_tokens", "cached_tokens", "completion_tokens", "reasoning_tokens",
                 "total_tokens", "cache_write_tokens")
exchanges = sa.Table(
    "exchanges", metadata,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("session_id", sa.Text),
    sa.Column("provider", sa.Text), sa.Column("model", sa.Text), sa.Column("base_url", sa.Text),
    sa.Column("base_url_host", sa.Text), sa.Column("stream", sa.Integer),
    sa.Column("started_at", sa.Float), sa.Column("first_byte_at", sa.Float),
    sa.Column("first_token_at", sa.Float), sa.Column("ended_at", sa.Float),
    sa.Column("status", sa.Integer), sa.Column("request_id", sa.Text),
    sa.Column("error", sa.Text), sa.Column("error_kind", sa.Text),
    sa.Column("request_json", sa.Text), sa.Column("request_headers_json", sa.Text),
    sa.Column("response_json", sa.Text), sa.Column("transcript", sa.Text),
    sa.Column("attempts_json", sa.Text),
    *(sa.Column(name, sa.Integer) for name in USAGE_COLUMNS),
    sa.Column("usage_estimated", sa.Integer),
    sa.Column("url", sa.Text), sa.Column("response_headers_json", sa.Text),
    sa.Column("wire", sa.Text), sa.Column("copied_from", sa.Text),
    sa.Column("eval_run_id", sa.Text),  # eval traffic: the run that sent it
    sa.Column("purpose", sa.Text),  # "simulate" for a simulated tool result; NULL otherwise
)
result_drafts = sa.Table(
    "result_drafts", metadata,
    sa.Column("session_id", sa.Text, primary_key=True),
    sa.Column("call_id", sa.Text, primary_key=True), sa.Column("content", sa.Text),
    sa.Column("is_error", sa.Integer), sa.Column("updated_at", sa.Float),
)
eval_runs = sa.Table(
    "eval_runs", metadata,
    sa.Column("id", sa.Text, primary_key=True), sa.Column("suite_name", sa.Text),
    sa.Column("suite_path", sa.Text), sa.Column("suite_source", sa.Text),
    sa.Column("tools_json", sa.Text), sa.Column("settings_json", sa.Text),
    sa.Column("targets_json", sa.Text), sa.Column("repeats", sa.Integer),
    sa.Column("concurrency", sa.Integer), sa.Column("total_cells", sa.Integer),
    sa.Column("status", sa.Text), sa.Column("created_at", sa.Float),
    sa.Column("heartbeat_at", sa.Float), sa.Column("finished_at", sa.Float),
    sa.Column("note", sa.Text), sa.Column("owner", sa.Text),
)
user_tools = sa.Table(
    "user_tools", metadata,
    sa.Column("owner", sa.Text, primary_key=True), sa.Column("name", sa.Text, primary_key=True),
    sa.Column("source", sa.Text), sa.Column("updated_at", sa.Float),
)
eval_results = sa.Table(
    "eval_results", metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("case_name", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, primary_key=True),
    sa.Column("repeat", sa.Integer, primary_key=True),
    sa.Column("status", sa.Text), sa.Column("failures_json", sa.Text),
    sa.Column("calls_json", sa.Text), sa.Column("answer", sa.Text), sa.Column("error", sa.Text),
    sa.Column("exchange_id", sa.Text), sa.Column("latency_s", sa.Float),
    sa.Column("total_tokens", sa.Integer), sa.Column("created_at", sa.Float),
)


# --- Engine and migrations ---------------------------------------------------------------------

def default_url(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    if env.get("TOOLSMITH_DATABASE_URL"):
        return env["TOOLSMITH_DATABASE_URL"]
    data_dir = Path(env.get("TOOLSMITH_DATA_DIR") or Path.home() / ".toolsmith").expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'toolsmith.db'}"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions itself, so DDL in a migration is
    # transactional too (pysqlite would otherwise commit before each CREATE/ALTER).
    dbapi_connection.isolation_level = None
    # SQLite's lower() folds ASCII only; search must ignore case of any letter, as on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # two sessions writing at once wait, not fail
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(conn: Connection) -> None:
    # Writers ask for BEGIN IMMEDIATE: a deferred transaction that reads, then writes fails
    # at once with "database is locked" when another writer committed in between, whatever
    # busy_timeout says; IMMEDIATE waits for the write lock up front instead.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


def _sqlite_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    # No journal_mode or synchronous pragmas: those would write to a file that must not change.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect",
                        _sqlite_connect_read_only if read_only else _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and for :memory:)."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def writable(path: Path) -> bool:
    """Whether SQLite could write this file and create its WAL companions next to it. Tried,
    not read from mode bits: those do not stop root, and an immutable file or a read-only
    mount stops everyone."""
    try:
        with path.open("r+b"):
            pass
        # A name of its own per call: threads of one process opening the store at once
        # removed each other's probe, and the loser took the file for read-only.
        probe = path.with_name(f".{path.name}.probe-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        probe.touch()
        probe.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def applied_versions(conn: Connection) -> set[int]:
    if not sa.inspect(conn).has_table("schema_migrations"):
        return set()
    return {row[0] for row in conn.execute(sa.select(migrations_table.c.version))}


def writing(engine: Engine) -> Any:
    """A transaction that will write (BEGIN IMMEDIATE on SQLite; a plain one elsewhere)."""
    return engine.connect().execution_options(sqlite_begin="IMMEDIATE")


def migrate(engine: Engine, upto: int | None = None) -> list[int]:
    """Apply the migrations not yet recorded (in order, each in its own transaction)."""
    done: list[int] = []
    with writing(engine) as conn, conn.begin():
        migrations_table.create(conn, checkfirst=True)
    for version, name, statements in _MIGRATIONS:
        if upto is not None and version > upto:
            break
        with writing(engine) as conn, conn.begin():
            if version in applied_versions(conn):
                continue
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.execute(migrations_table.insert().values(
                version=version, name=name, applied_at=time.time()))
            done.append(version)
    return done


# --- Row <-> value conversion ------------------------------------------------------------------

def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    return None if usage is None else asdict(usage)


def _message_row(session_id: str, position: int, message: Message) -> dict[str, Any]:
    return {
        "id": message.id, "session_id": session_id, "position": position,
        "role": message.role, "content": message.content,
        "tool_calls_json": _dumps([asdict(c) for c in message.tool_calls])
        if message.tool_calls else None,
        "tool_call_id": message.tool_call_id, "name": message.name,
        "is_error": int(message.is_error), "reasoning": message.reasoning or None,
        "usage_json": _dumps(_usage_dict(message.usage)),
        "finish_reason": message.finish_reason, "exchange_id": message.exchange_id,
        "created_at": time.time(),
        "images_json": _dumps([asdict(i) for i in message.images]) if message.images else None,
        "wire_state_json": _dumps({"reasoning_items": message.reasoning_items,
                                   "server_activity": message.server_activity})
        if message.reasoning_items or message.server_activity else None,
    }


def _message_from_row(row: Any) -> Message:
    usage = _loads(row.usage_json)
    return Message(
        role=row.role, content=row.content,
        tool_calls=[ToolCall(**c) for c in _loads(row.tool_calls_json) or []],
        tool_call_id=row.tool_call_id, name=row.name, is_error=bool(row.is_error),
        reasoning=row.reasoning or "", usage=Usage(**usage) if usage else None,
        finish_reason=row.finish_reason, exchange_id=row.exchange_id, id=row.id,
        images=[ToolImage(**i) for i in _loads(row.images_json) or []],
        **_wire_state(_loads(row.wire_state_json)),
    )


def _wire_state(state: Any) -> dict[str, Any]:
    """reasoning_items and server_activity of a stored message (absent: none)."""
    if not isinstance(state, dict):
        return {}
    items = state.get("reasoning_items")
    activity = state.get("server_activity")
    return {"reasoning_items": [i for i in items if isinstance(i, dict)]
            if isinstance(items, list) else [],
            "server_activity": [str(a) for a in activity] if isinstance(activity, list) else []}


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def _exchange_row(session_id: str, exchange: Exchange) -> dict[str, Any]:
    usage = exchange.usage or Usage()
    return {
        "id": exchange.id, "session_id": session_id, "provider": exchange.provider,
        "model": exchange.model, "base_url": exchange.base_url,
        "base_url_host": host_of(exchange.base_url), "stream": int(exchange.stream),
        "started_at": exchange.started_at, "first_byte_at": exchange.first_byte_at,
        "first_token_at": exchange.first_token_at, "ended_at": exchange.ended_at,
        "status": exchange.status, "request_id": exchange.request_id, "error": exchange.error,
        "error_kind": exchange.error_kind, "request_json": _dumps(exchange.request_body),
        "request_headers_json": _dumps(exchange.request_headers),
        "response_json": _dumps(exchange.response_body), "transcript": exchange.transcript,
        "attempts_json": _dumps([asdict(a) for a in exchange.attempts]),
        "prompt_tokens": usage.prompt_tokens, "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens, "total_tokens": usage.total,
        "cache_write_tokens": usage.cache_write_tokens,
        "usage_estimated": int(usage.estimated), "url": exchange.url,
        "response_headers_json": _dumps(exchange.response_headers), "wire": exchange.wire,
        "copied_from": exchange.copied_from, "purpose": exchange.purpose,
    }


def exchange_row(session_id: str, exchange: Exchange) -> dict[str, Any]:
    """The row of an exchange (eval runs write their requests as ordinary exchanges)."""
    return _exchange_row(session_id, exchange)


def exchange_from_row(row: Any) -> Exchange:
    return _exchange_from_row(row)


def _exchange_from_row(row: Any) -> Exchange:
    has_usage = any(getattr(row, c) is not None for c in USAGE_COLUMNS)
    return Exchange(
        provider=row.provider, model=row.model, base_url=row.base_url,
        request_body=_loads(row.request_json), stream=bool(row.stream),
        started_at=row.started_at, id=row.id,
        request_headers=_loads(row.request_headers_json) or {}, url=row.url or "",
        response_headers=_loads(row.response_headers_json) or {}, status=row.status,
        wire=row.wire or "openai", copied_from=row.copied_from, purpose=row.purpose,
        request_id=row.request_id, response_body=_loads(row.response_json),
        transcript=row.transcript, error=row.error, error_kind=row.error_kind,
        first_byte_at=row.first_byte_at, first_token_at=row.first_token_at,
        ended_at=row.ended_at,
        attempts=[Attempt(**a) for a in _loads(row.attempts_json) or []],
        usage=Usage(prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
                    total_tokens=row.total_tokens, cached_tokens=row.cached_tokens,
                    reasoning_tokens=row.reasoning_tokens,
                    cache_write_tokens=row.cache_write_tokens,
                    estimated=bool(row.usage_estimated)) if has_usage else None,
    )


# --- The store ---------------------------------------------------------------------------------

class SessionConflict(Exception):
    """The stored session moved on without this copy (it was continued in another tab)."""


class NotYourSession(SessionConflict):
    """The stored session belongs to someone else (a teammate's shared session): what this
    copy adds is kept as the viewer's own fork, as for a conflict."""


@dataclass
class SessionInfo:
    id: str
    title: str
    created_at: float
    updated_at: float
    provider: str | None
    model: str | None
    messages: int = 0
    requests: int = 0
    tokens: int = 0
    owner: str | None = None
    shared: bool = False
    last_text: str = ""  # the start of its latest message with text (tells like sessions apart)
    branched_from: str | None = None  # the session it is a branch of


def _insert_for(dialect: str) -> Callable[..., Any]:
    """The INSERT with ON CONFLICT of the two databases Toolsmith supports."""
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def title_for(conversation: Conversation) -> str:
    first = next((m.content for m in conversation.messages if m.role == "user"), "")
    first = " ".join(first.split())
    return (first[:77] + "…") if len(first) > 78 else (first or "Untitled session")


class Store:
    """Reads and writes sessions. Every write is its own short transaction."""

    def __init__(self, engine: Engine, *, read_only: bool = False,
                 owner: str | None = None, all_usage: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only  # every write would fail: callers skip them
        # Team mode: the signed-in user; every read and write is limited to their rows (and
        # sessions shared with the team, read-only). None: local mode, everything visible.
        self.owner = owner
        self.all_usage = all_usage  # an admin: the Usage page shows everyone's, by user

    def as_owner(self, owner: str | None, *, all_usage: bool = False) -> Store:
        """The same database seen by one user (None: unscoped, local mode)."""
        if (owner, all_usage) == (self.owner, self.all_usage):
            return self
        return Store(self.engine, read_only=self.read_only, owner=owner, all_usage=all_usage)

    def _usage_scope(self) -> Any:
        """The exchanges the Usage page may count: all, or those of the owner's sessions."""
        if self.owner is None or self.all_usage:
            return sa.true()
        return exchanges.c.session_id.in_(
            sa.select(sessions.c.id).where(sessions.c.owner == self.owner))

    def _mine(self) -> Any:
        """The WHERE clause of the sessions this store may change."""
        return sa.true() if self.owner is None else sessions.c.owner == self.owner

    def _readable(self) -> Any:
        """The WHERE clause of the sessions this store may read: its own and shared ones."""
        if self.owner is None:
            return sa.true()
        return (sessions.c.owner == self.owner) | (sessions.c.shared == 1)

    def _owned(self, conn: Connection, session_id: str) -> bool:
        return conn.execute(sa.select(sessions.c.id).where(
            (sessions.c.id == session_id) & self._mine())).first() is not None

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (and migrate) the database. A SQLite file that cannot be written is opened
        read-only and left exactly as it is: not migrated, not switched to WAL."""
        path = sqlite_file(url)
        if path is not None and path.exists() and not writable(path):
            return cls(make_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true",
                                   read_only=True), read_only=True)
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    # Writing, as the conversation happens.
    def record(self, conversation: Conversation, *, provider: str | None = None,
               model: str | None = None, settings: dict[str, Any] | None = None,
               tools: list[dict[str, Any]] | None = None, title: str | None = None,
               branched_from: str | None = None) -> None:
        """Bring the stored session up to date with the in-memory conversation, in one
        transaction: the session row, the messages not stored yet (the history only grows)
        and the exchanges not stored yet. `branched_from`: the session it is a branch of."""
        now = time.time()
        values: dict[str, Any] = {"updated_at": now}
        for key, value in (("provider", provider), ("model", model), ("title", title),
                           ("settings_json", _dumps(settings)), ("tools_json", _dumps(tools)),
                           ("branched_from", branched_from)):
            if value is not None:
                values[key] = value
        with writing(self.engine) as conn, conn.begin():
            updated = conn.execute(sessions.update().where(
                (sessions.c.id == conversation.id) & self._mine()).values(**values)).rowcount
            if not updated:
                if conn.execute(sa.select(sessions.c.id).where(
                        sessions.c.id == conversation.id)).first() is not None:
                    raise NotYourSession(conversation.id)
                conn.execute(sessions.insert().values(
                    id=conversation.id, created_at=now, owner=self.owner,
                    **{"title": title_for(conversation), **values}))
            stored = list(conn.execute(sa.select(messages.c.id).where(
                messages.c.session_id == conversation.id).order_by(messages.c.position))
                .scalars())
            count = len(stored)
            if stored != [m.id for m in conversation.messages[:count]]:
                raise SessionConflict(conversation.id)
            new = conversation.messages[count:]
            if new:
                conn.execute(messages.insert(), [
                    _message_row(conversation.id, count + i, m) for i, m in enumerate(new)])
            known = set(conn.execute(sa.select(exchanges.c.id).where(
                exchanges.c.session_id == conversation.id)).scalars())
            fresh = [e for e in conversation.exchanges.values() if e.id not in known]
            if fresh:
                conn.execute(exchanges.insert(),
                             [_exchange_row(conversation.id, e) for e in fresh])
            answered = [m.tool_call_id for m in new if m.role == "tool" and m.tool_call_id]
            if answered:  # a sent result is a message now; its draft has done its job
                conn.execute(result_drafts.delete().where(
                    (result_drafts.c.session_id == conversation.id)
                    & result_drafts.c.call_id.in_(answered)))

    def record_exchange(self, session_id: str, title: str, exchange: Exchange) -> None:
        """Keep one request made outside a conversation (Generate on the Tools page), so the
        Usage page counts it. It belongs to a session row of kind "tools", which History does
        not list (like an eval run's)."""
        now = time.time()
        with writing(self.engine) as conn, conn.begin():
            if conn.execute(sa.select(sessions.c.id).where(
                    sessions.c.id == session_id)).first() is None:
                conn.execute(sessions.insert().values(
                    id=session_id, title=title, created_at=now, updated_at=now, kind="tools",
                    owner=self.owner))
            else:
                conn.execute(sessions.update().where(sessions.c.id == session_id)
                             .values(updated_at=now))
            conn.execute(exchanges.insert().values(**_exchange_row(session_id, exchange)))

    def save_result_draft(self, session_id: str, call_id: str, content: str,
                          is_error: bool = False) -> bool:
        """Keep a tool result the user is typing, so a refresh or a restart does not lose it.

        Returns False when the session is not stored (yet): there is nothing to attach it to.
        """
        key = (result_drafts.c.session_id == session_id) & (result_drafts.c.call_id == call_id)
        with writing(self.engine) as conn, conn.begin():
            if not self._owned(conn, session_id):  # typed results are their author's only
                return False
            if not (content or is_error):
                conn.execute(result_drafts.delete().where(key))
                return True
            # One statement, not delete-then-insert: two tabs saving the same box at once
            # would otherwise race on the primary key (PostgreSQL does not serialize them).
            insert = _insert_for(conn.dialect.name)(result_drafts).values(
                session_id=session_id, call_id=call_id, content=content,
                is_error=int(is_error), updated_at=time.time())
            conn.execute(insert.on_conflict_do_update(
                index_elements=["session_id", "call_id"],
                set_={c: insert.excluded[c] for c in ("content", "is_error", "updated_at")}))
        return True

    def result_drafts(self, session_id: str) -> dict[str, tuple[str, bool]]:
        """Typed, unsent tool results of a session: call id -> (text, is error)."""
        with self.engine.connect() as conn:
            if not self._owned(conn, session_id):
                return {}
            rows = conn.execute(sa.select(result_drafts).where(
                result_drafts.c.session_id == session_id)).all()
        return {r.call_id: (r.content, bool(r.is_error)) for r in rows}

    def truncate(self, session_id: str, keep: int) -> None:
        """Drop the messages from position `keep` on (Retry this turn replaces an answer),
        with the results typed for the calls they made."""
        with writing(self.engine) as conn, conn.begin():
            if not self._owned(conn, session_id):
                return
            dropped = conn.execute(sa.select(messages.c.tool_calls_json).where(
                (messages.c.session_id == session_id) & (messages.c.position >= keep))).scalars()
            call_ids = [c["id"] for text in dropped for c in _loads(text) or []]
            conn.execute(messages.delete().where(
                (messages.c.session_id == session_id) & (messages.c.position >= keep)))
            if call_ids:
                conn.execute(result_drafts.delete().where(
                    (result_drafts.c.session_id == session_id)
                    & result_drafts.c.call_id.in_(call_ids)))

    # Reading.
    def load(self, session_id: str) -> Conversation | None:
        with self.engine.connect() as conn:
            if conn.execute(sa.select(sessions.c.id).where(
                    (sessions.c.id == session_id) & self._readable())).first() is None:
                return None
            rows = conn.execute(sa.select(messages).where(messages.c.session_id == session_id)
                                .order_by(messages.c.position)).all()
            ex_rows = conn.execute(sa.select(exchanges).where(
                exchanges.c.session_id == session_id).order_by(exchanges.c.started_at)).all()
        conversation = Conversation(id=session_id)
        conversation.messages = [_message_from_row(r) for r in rows]
        conversation.exchanges = {r.id: _exchange_from_row(r) for r in ex_rows}
        return conversation

    def session_info(self, session_id: str) -> SessionInfo | None:
        found = self.list_sessions(ids=[session_id])
        return found[0] if found else None

    def session_row(self, session_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(sessions).where(
                (sessions.c.id == session_id) & self._readable())).first()
        return None if row is None else dict(row._mapping)

    def list_sessions(self, search: str = "", *, ids: Iterable[str] | None = None,
                      limit: int = 500, shared: bool = False) -> list[SessionInfo]:
        """Sessions, newest activity first, with message, request and token counts: the
        owner's own (in team mode), or with `ids` also teammates' shared ones."""
        message_count = (sa.select(messages.c.session_id, sa.func.count().label("n"))
                         .group_by(messages.c.session_id).subquery())
        exchange_stats = (sa.select(exchanges.c.session_id,
                                    sa.func.count().label("requests"),
                                    sa.func.coalesce(sa.func.sum(exchanges.c.total_tokens), 0)
                                    .label("tokens"))
                          .where(sa.or_(exchanges.c.wire.is_(None),  # tool runs are no requests
                                        exchanges.c.wire.not_in(TOOL_RUN_WIRES)))
                          .group_by(exchanges.c.session_id).subquery())
        latest = (sa.select(sa.func.substr(messages.c.content, 1, 160))
                  .where((messages.c.session_id == sessions.c.id) & (messages.c.content != "")
                         & messages.c.role.in_(("user", "assistant")))
                  .order_by(messages.c.position.desc()).limit(1)
                  .scalar_subquery().label("last_text"))
        query = (sa.select(sessions, message_count.c.n, exchange_stats.c.requests,
                           exchange_stats.c.tokens, latest)
                 .outerjoin(message_count, message_count.c.session_id == sessions.c.id)
                 .outerjoin(exchange_stats, exchange_stats.c.session_id == sessions.c.id)
                 .where(sessions.c.kind.is_(None))  # chats only: not eval runs, not tools
                 .where(self._readable() if (ids is not None or shared) else self._mine())
                 .order_by(sessions.c.updated_at.desc()).limit(limit))
        if ids is not None:
            query = query.where(sessions.c.id.in_(list(ids)))
        if search.strip():
            escaped = (search.strip().lower().replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_"))
            pattern = f"%{escaped}%"
            in_text = sa.select(messages.c.session_id).where(
                sa.func.lower(messages.c.content).like(pattern, escape="\\"))
            query = query.where(sa.or_(
                sa.func.lower(sessions.c.title).like(pattern, escape="\\"),
                sessions.c.id.in_(in_text)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [SessionInfo(id=r.id, title=r.title, created_at=r.created_at,
                            updated_at=r.updated_at, provider=r.provider, model=r.model,
                            messages=r.n or 0, requests=r.requests or 0,
                            tokens=int(r.tokens or 0), owner=r.owner,
                            shared=bool(r.shared), last_text=r.last_text or "",
                            branched_from=r.branched_from)
                for r in rows]

    # Editing.
    def rename(self, session_id: str, title: str) -> None:
        """A new title; the last activity stays (a title is not activity: the session keeps
        its place in the History list)."""
        with writing(self.engine) as conn, conn.begin():
            conn.execute(sessions.update().where(
                (sessions.c.id == session_id) & self._mine()).values(
                title=title.strip() or "Untitled session"))

    def set_shared(self, session_id: str, shared: bool) -> bool:
        """Share a session with the team (read-only, forkable), or stop sharing it. Only its
        owner can; returns whether the session was theirs."""
        with writing(self.engine) as conn, conn.begin():
            return bool(conn.execute(sessions.update().where(
                (sessions.c.id == session_id) & self._mine()).values(
                shared=int(shared))).rowcount)

    def delete(self, session_id: str) -> None:
        with writing(self.engine) as conn, conn.begin():
            if not self._owned(conn, session_id):
                return
            conn.execute(result_drafts.delete().where(result_drafts.c.session_id == session_id))
            conn.execute(exchanges.delete().where(exchanges.c.session_id == session_id))
            conn.execute(messages.delete().where(messages.c.session_id == session_id))
            conn.execute(sessions.delete().where(sessions.c.id == session_id))

    def fork(self, session_id: str, upto_message_id: str) -> str:
        """A new session holding the messages up to and including the given one."""
        source = self.load(session_id)
        if source is None:
            raise KeyError(session_id)
        ids = [m.id for m in source.messages]
        if upto_message_id not in ids:
            raise KeyError(upto_message_id)
        kept = source.messages[: ids.index(upto_message_id) + 1]
        remap = {m.exchange_id: new_id("ex_") for m in kept
                 if m.exchange_id and m.exchange_id in source.exchanges}
        fork = Conversation(id=new_id("ses_"))
        fork.messages = [replace(m, id=new_id("msg_"), exchange_id=remap.get(m.exchange_id or ""))
                         for m in kept]
        fork.exchanges = {new: replace(source.exchanges[old], id=new,
                                       copied_from=source.exchanges[old].copied_from or old)
                          for old, new in remap.items()}
        row = self.session_row(session_id) or {}
        self.record(fork, provider=row.get("provider"), model=row.get("model"),
                    settings=_loads(row.get("settings_json")),
                    tools=_loads(row.get("tools_json")),
                    title=f"Fork of {row.get('title') or 'session'}", branched_from=session_id)
        return fork.id

    def usage_version(self) -> tuple[int, float]:
        """(count, latest start) of the exchanges: changes whenever the Usage data does, and
        costs one indexed aggregate, so the page can skip rebuilding its frame on reruns."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(
                sa.func.count(), sa.func.coalesce(sa.func.max(exchanges.c.started_at), 0.0)
            ).select_from(exchanges).where(self._usage_scope())).one()
            count: Any = row[0]
            latest: Any = row[1]
        return int(count), float(latest)

    def usage_rows(self, columns: Iterable[str] | None = None) -> tuple[list[str], list[Any]]:
        """Plain tuples of the exchanges table for the Usage page (no bodies, no transcripts).

        Read through the DB-API cursor: for 100,000 rows, SQLAlchemy's Row objects would cost
        more than the query itself.
        """
        with self.engine.connect() as conn:
            # Copies (forks, imports) are here too: core.usage counts each request once,
            # whichever of its rows are still stored. Without copies, the two text columns
            # that tell them apart are not worth fetching.
            copies = conn.execute(sa.select(exchanges.c.id).where(
                exchanges.c.copied_from.is_not(None)).limit(1)).first() is not None
            names = list(columns or (
                "session_id", "provider", "model", "started_at", "first_token_at", "ended_at",
                *USAGE_COLUMNS, "usage_estimated", "eval_run_id", "purpose",
                *(("id", "copied_from") if copies else ())))
            # Tool runs are kept as exchanges too (wire "mcp" or "http-tool"), but they are no
            # model requests: they use no tokens and cost nothing.
            # (A literal, not a bound parameter: the statement runs on the raw cursor.)
            picked: list[Any] = [exchanges.c[n] for n in names]
            if self.owner is not None:  # team mode: whose request it was (the session's owner)
                picked.append(sa.select(sessions.c.owner).where(
                    sessions.c.id == exchanges.c.session_id).scalar_subquery().label("user"))
                names.append("user")
            query = sa.select(*picked).where(
                sa.text("(exchanges.wire IS NULL OR exchanges.wire NOT IN ('mcp', 'http-tool'))"),
                self._usage_scope())
            # The owner is the only value, quoted by SQLAlchemy's literal rendering.
            compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
            raw = conn.connection.dbapi_connection
            assert raw is not None  # an open connection has its DB-API connection
            cursor = raw.cursor()
            try:
                cursor.execute(str(compiled))
                return names, list(cursor.fetchall())
            finally:
                cursor.close()

    # A person's own tools (team mode): file name (stem) -> YAML text, as typed.
    def own_tools(self) -> dict[str, str]:
        if self.owner is None:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(user_tools.c.name, user_tools.c.source).where(
                user_tools.c.owner == self.owner).order_by(user_tools.c.name)).all()
        return {r.name: r.source for r in rows}

    def save_own_tool(self, name: str, source: str) -> None:
        """Raises ToolFileError for a `run` section: HTTP tools are the admins' alone."""
        if self.owner is None:
            raise ValueError("own tools need a signed-in owner")
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError:
            document = None  # not a tool the library would load either
        refused = program_problems(document)
        if refused:
            raise ToolFileError(refused)
        with writing(self.engine) as conn, conn.begin():
            insert = _insert_for(conn.dialect.name)(user_tools).values(
                owner=self.owner, name=name, source=source, updated_at=time.time())
            conn.execute(insert.on_conflict_do_update(
                index_elements=["owner", "name"],
                set_={"source": insert.excluded.source,
                      "updated_at": insert.excluded.updated_at}))

    def delete_own_tool(self, name: str) -> None:
        if self.owner is None:
            return
        with writing(self.engine) as conn, conn.begin():
            conn.execute(user_tools.delete().where(
                (user_tools.c.owner == self.owner) & (user_tools.c.name == name)))

    def each_table(self, visit: Callable[[str, list[Any]], None]) -> None:
        """Every row of every table (the secrets audit searches them all)."""
        with self.engine.connect() as conn:
            for table in metadata.sorted_tables:
                visit(table.name, list(conn.execute(sa.select(table)).all()))
