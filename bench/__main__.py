"""`python -m bench`: run every benchmark, print a table, write bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from bench import stream

OUT = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    rows = stream.stream_handling() + stream.ttft_overhead()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Toolsmith benchmarks — {time.strftime('%Y-%m-%d')} — {machine}")
    print(f"{'benchmark':<78} {'value':>10} {'peer':>10} {'ratio':>7}  target")
    for row in rows:
        print(f"{row['name']:<78} {row['value']:>8.1f}{row['unit']:<2} {row['peer']:>8.1f}"
              f"{row['unit']:<2} {row['ratio']:>7.2f}  {row['target']}")
    OUT.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": machine,
                               "results": rows}, indent=2))
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
