"""Start-up time of the ``latentplay`` command (seconds, median of 5 fresh processes).

``root_help`` is ``latentplay --help``; ``<group>_help`` is ``latentplay <group> --help``, which
imports that group's command module; ``all_packages`` imports every command's module and every
public name of the packages that export theirs lazily (store, match, audit, report): what the
command paid when everything was imported at start.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from latentplay.cli import COMMANDS


def _seconds(code: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def _cli(*argv: str) -> str:
    return f"from latentplay.cli import main\ntry:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass"


def main() -> None:
    modules = sorted({target.split(":")[0] for target, _ in COMMANDS.values()})
    figures = {
        "root_help": _seconds(_cli("--help")),
        "all_packages": _seconds("\n".join(
            [f"import {m}" for m in modules]
            + [f"import latentplay.{p} as p; [getattr(p, n) for n in p.__all__]"
               for p in ("store", "match", "audit", "report")])),
    }
    for name in ("data", "train", "match", "latent", "audit", "report"):
        figures[f"{name}_help"] = _seconds(_cli(name, "--help"))
    print(json.dumps({"bench": "cli_startup", "unit": "s", **figures}))


if __name__ == "__main__":
    main()
