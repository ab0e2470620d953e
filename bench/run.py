"""Run the benchmarks: every ``bench/bench_*.py`` (or those named on the command line).

Each benchmark is a script that prints one JSON object per line; this runner runs each in its
own process (so peak-memory figures are its own) and passes the lines through.

    python bench/run.py                 # all
    python bench/run.py store synthfaces   # bench_store.py, bench_synthfaces.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    status = 0
    for script in scripts:
        proc = subprocess.run([sys.executable, str(script)], check=False)
        status = status or proc.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
