"""`python -m toolsmith eval SUITE …`: run a schema test suite and exit 0/1/2 for CI.

Configuration is the app's: the same environment variables and `.streamlit/secrets.toml`, the
same database (the run shows up on the Evals page), the same tool library. Exit codes: 0 when
every cell meets the minimum pass rate, 1 when one does not, 2 for a bad suite or
configuration (with the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.config import DEMO_BASE_URL, DEMO_MODEL, KEY_ENV, PRESETS, preset_for_url
from core.evals import report as reports
from core.evals import runner
from core.evals.records import CellResult, EvalRecords, Target
from core.evals.suite import Suite, read_suite
from core.evals.summary import summarize, totals
from core.store import Store, default_url
from core.tools.library import load_library
from core.wire import wire_format

CHECKOUT = Path(__file__).resolve().parent.parent
WIRES = tuple(KEY_ENV)


class ConfigProblem(Exception):
    """Bad configuration or suite: exit 2 with this message."""


def read_secrets(paths: list[Path]) -> dict[str, Any]:
    """The first secrets.toml that exists, as Streamlit reads it (project, then home)."""
    for path in paths:
        if path.is_file():
            try:
                return tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigProblem(f"{path} cannot be read: {exc}") from None
    return {}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m toolsmith",
                                  description="Toolsmith from the command line.")
    commands = top.add_subparsers(dest="command", required=True)
    ev = commands.add_parser(
        "eval", help="run a schema test suite (evals/*.yaml) against one or more models",
        description="Run a suite: every case × target × repeat. Exit 0 when every cell "
        "meets --min-pass-rate, 1 when one does not, 2 for a bad suite or configuration.")
    ev.add_argument("suite", type=Path, nargs="?",
                    help="the suite file, e.g. evals/library_tools.yaml")
    ev.add_argument("--resume", metavar="RUN_ID",
                    help="send the cells an interrupted or cancelled run never got answered "
                    "(its stored suite, tools, targets and settings; keys as configured now)")
    ev.add_argument("--wire", choices=WIRES,
                    help="wire format (default: TOOLSMITH_PROVIDER, else what is configured)")
    ev.add_argument("--base-url", help="server base URL (default: OPENAI_BASE_URL or "
                    "ANTHROPIC_BASE_URL for the wire)")
    ev.add_argument("--model", action="append", default=[],
                    help="a model to test; repeat for several (default: OPENAI_MODEL / "
                    "ANTHROPIC_MODEL)")
    ev.add_argument("--repeat", type=int, default=runner.DEFAULT_REPEATS,
                    help="answers per case and target (default 3)")
    ev.add_argument("--concurrency", type=int, default=runner.DEFAULT_CONCURRENCY,
                    help="requests at once per target (default 8)")
    ev.add_argument("--min-pass-rate", type=float, default=1.0,
                    help="a cell passes when at least this share of its repeats pass (0-1, "
                    "default 1)")
    ev.add_argument("--junit", type=Path, help="write JUnit XML here")
    ev.add_argument("--json", type=Path, help="write the results as JSON here")
    ev.add_argument("--demo", action="store_true", help="use the offline demo model")
    ev.add_argument("--stream", action="store_true", help="send streaming requests")
    return top


def targets_from(args: argparse.Namespace, env: Mapping[str, str],
                 secrets: Mapping[str, Any]) -> tuple[list[Target], dict[str, str], str]:
    """The targets, the key per wire, and a note for stderr (which configuration was used)."""
    def get(name: str) -> str:
        return str(secrets.get(name) or env.get(name) or "").strip()

    keys = {w: get(wire_format(w).key_env) for w in WIRES}
    if args.demo:
        wire = args.wire or "openai"
        return ([Target(wire, DEMO_BASE_URL, m, preset="demo")
                 for m in args.model or [DEMO_MODEL]], keys, "the offline demo model")
    chosen = (get("TOOLSMITH_WIRE_FORMAT") or get("TOOLSMITH_PROVIDER")).lower()
    configured = [w for w in WIRES
                  if get(wire_format(w).key_env) or get(wire_format(w).base_url_env)]
    wire = args.wire or (chosen if chosen in WIRES else None) or \
        (configured[0] if configured else None)
    if wire is None and not args.base_url:
        return ([Target("openai", DEMO_BASE_URL, m, preset="demo")
                 for m in args.model or [DEMO_MODEL]], keys,
                "the offline demo model (no server configured: set OPENAI_BASE_URL / "
                "OPENAI_API_KEY, or pass --base-url)")
    wire = wire or "openai"
    fmt = wire_format(wire)
    official = next((p for p in PRESETS.values() if p.wire == wire and p.official), None)
    base = args.base_url or get(fmt.base_url_env) or (official.base_url if official else "")
    if not base.startswith(("http://", "https://")):
        raise ConfigProblem(f"the base URL {base!r} is not an http(s) URL; pass --base-url "
                            f"or set {fmt.base_url_env}")
    preset = preset_for_url(base, wire)
    models = args.model or [get(fmt.model_env) or PRESETS[preset].default_model
                            or (official.default_model if official else "")]
    if not all(models):
        raise ConfigProblem(f"no model: pass --model or set {fmt.model_env}")
    note = f"{base} ({wire} format" + (", no API key" if not keys.get(wire) else "") + ")"
    return [Target(wire, base, m, preset=preset) for m in models], keys, note


def database_url(env: Mapping[str, str], secrets: Mapping[str, Any]) -> str:
    if env.get("TOOLSMITH_DATABASE_URL"):
        return env["TOOLSMITH_DATABASE_URL"]
    configured = (secrets.get("connections") or {}).get("sql", {}).get("url")
    return str(configured) if configured else default_url(dict(env))


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None,
         cwd: Path | None = None) -> int:
    args = parser().parse_args(argv)
    env = dict(os.environ) if env is None else env
    cwd = cwd or Path.cwd()
    try:
        return run_eval(args, env, cwd)
    except ConfigProblem as exc:
        print(f"toolsmith eval: {exc}", file=sys.stderr)
        return 2


def _suite(args: argparse.Namespace, env: Mapping[str, str], cwd: Path) -> Suite:
    tools_dir = Path(env.get("TOOLSMITH_TOOLS_DIR") or CHECKOUT / "tools")
    library = {e.spec.name: e.spec for e in load_library(tools_dir) if e.spec}
    path = args.suite if args.suite.is_absolute() else cwd / args.suite
    if not path.is_file():
        raise ConfigProblem(f"{args.suite}: no such suite file")
    found = read_suite(path, library)
    if found.suite is None:
        lines = [f"{args.suite}:{p.line or 1}:{p.column or 1}: {p.message}"
                 for p in found.problems]
        raise ConfigProblem("the suite cannot run:\n" + "\n".join(lines))
    return found.suite


def _resumed(args: argparse.Namespace, env: Mapping[str, str], secrets: Mapping[str, Any],
             records: EvalRecords) -> tuple[Suite, list[Target], runner.RunSettings, int, int,
                                            dict[str, str]]:
    info = records.run(args.resume)
    if info is None:
        raise ConfigProblem(f"no run {args.resume!r} in the database")
    if info.status == "running":
        records.mark_interrupted(set())  # a run whose process died shows a stale heartbeat
        info = records.run(args.resume)
        assert info is not None
        if info.status == "running":
            raise ConfigProblem(f"run {args.resume} is still going on (its heartbeat is "
                                "fresh); wait for it, or try again in a minute")
    suite, targets, settings, repeats, concurrency = runner.stored_suite(records, info.id)
    keys = targets_from(argparse.Namespace(demo=True, wire=None, model=[]), env, secrets)[1]
    return suite, targets, settings, repeats, concurrency, keys


def run_eval(args: argparse.Namespace, env: Mapping[str, str], cwd: Path) -> int:
    if args.repeat < 1 or args.concurrency < 1:
        raise ConfigProblem("--repeat and --concurrency must be at least 1")
    if not 0.0 <= args.min_pass_rate <= 1.0:
        raise ConfigProblem("--min-pass-rate is a share between 0 and 1, e.g. 0.8")
    secrets = read_secrets([cwd / ".streamlit" / "secrets.toml",
                            Path.home() / ".streamlit" / "secrets.toml"])
    if (args.suite is None) == (args.resume is None):
        raise ConfigProblem("give a suite file, or --resume RUN_ID (not both)")
    try:
        records = EvalRecords(Store.open(database_url(env, secrets)))
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigProblem(f"the database cannot be opened ({type(exc).__name__}); check "
                            "TOOLSMITH_DATABASE_URL / TOOLSMITH_DATA_DIR") from None
    if args.resume:
        suite, targets, settings, repeats, concurrency, keys = _resumed(args, env, secrets,
                                                                       records)
        run_id = args.resume
        note = "the run's stored targets"
    else:
        suite = _suite(args, env, cwd)
        targets, keys, note = targets_from(args, env, secrets)
        settings = runner.RunSettings(stream=args.stream)
        repeats, concurrency = args.repeat, args.concurrency
        run_id = runner.start(records, suite, targets, repeats=repeats,
                              concurrency=concurrency, settings=settings)
    total = len(suite.cases) * len(targets) * repeats
    print(f"{'Resuming' if args.resume else 'Running'} {suite.name}: {len(suite.cases)} cases "
          f"× {len(targets)} target(s) × {repeats} = {total} requests against {note}",
          file=sys.stderr)
    cancel = threading.Event()
    done = [0]
    lock = threading.Lock()
    tty = sys.stderr.isatty()

    def progress(_result: CellResult) -> None:
        with lock:
            done[0] += 1
            if tty:
                print(f"\r{done[0]}/{total}", end="", file=sys.stderr, flush=True)

    worker = threading.Thread(target=runner.execute, args=(records, run_id, suite, targets),
                              kwargs={"repeats": repeats, "concurrency": concurrency,
                                      "settings": settings,
                                      "api_key": lambda t: keys.get(t.wire, ""),
                                      "cancel": cancel, "on_result": progress})
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        cancel.set()
        print("\nCancelling: waiting for the requests in flight…", file=sys.stderr)
        worker.join()
    if tty:
        print(file=sys.stderr)
    info = records.run(run_id)
    assert info is not None
    cells = summarize(records.results(run_id), [c.name for c in suite.cases],
                      [t.key for t in targets], repeats)
    report = reports.Report(info, cells, totals(cells, args.min_pass_rate), args.min_pass_rate)
    print(reports.table(report))
    print(reports.summary_line(report))
    if args.junit:
        args.junit.write_text(reports.junit(report), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(reports.as_json(report), indent=2, ensure_ascii=False)
                             + "\n", encoding="utf-8")
    if cancel.is_set():
        return 130
    return 0 if report.totals.passing == report.totals.cells else 1
