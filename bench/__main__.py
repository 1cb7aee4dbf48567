"""`python -m bench`: run every benchmark, print a table, write bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from bench import browser, chat_page, evals, pages, stream, usage

OUT = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    suites = {"stream": lambda: stream.stream_handling() + stream.ttft_overhead(),
              "chat": chat_page.run, "browser": browser.run, "usage": usage.run, "evals": evals.run,
              "pages": pages.run}
    chosen = sys.argv[1:] or list(suites)
    rows = []
    for name in chosen:
        print(f"running {name}…", flush=True)
        rows += suites[name]()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Toolsmith benchmarks — {time.strftime('%Y-%m-%d')} — {machine}")
    table = ["| benchmark | value | peer | ratio | target |", "|---|---:|---:|---:|---|"]
    for row in rows:
        table.append(f"| {row['name']} | {row['value']:,.1f} {row['unit']} | "
                     f"{row['peer']:,.1f} {row['unit']} | {row['ratio']:.2f} | "
                     f"{row['target']} |")
    print("\n".join(table))
    OUT.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": machine,
                               "results": rows}, indent=2))
    (OUT.parent / "results.md").write_text(
        f"Toolsmith benchmarks — {time.strftime('%Y-%m-%d')} — {machine}\n\n"
        + "\n".join(table) + "\n")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
