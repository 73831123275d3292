"""Every benchmark in one run, then one table of every goal: what users wait for, at a glance.

Runs the benchmarks below one after the other (never at the same time: they would slow each
other), each with the options given here (``--quick``, ``--rounds``, ``--src``), prints their
tables as they go, and at the end the goals of all of them. The real-node benchmark is left out:
it needs root and the node's packages (run ``bench_realnode.py`` on such a machine).

    .venv/bin/python bench/bench_all.py [--quick] [--rounds N] [--src DIR] [--check] [--json FILE]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import harness

BENCHES = (
    "bench_startup.py",
    "bench_steps.py",
    "bench_pytest_workers.py",
    "bench_history.py",
    "bench_site_build.py",
    "bench_affected.py",
)
HERE = Path(__file__).resolve().parent


def main() -> int:
    args = harness.parse(harness.parser(__doc__))
    rounds_given = any(a == "--rounds" or a.startswith("--rounds=") for a in sys.argv[1:])
    goals: list[tuple[str, dict[str, object]]] = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-all-") as tmp:
        for script in BENCHES:
            out = Path(tmp) / f"{script}.json"
            argv = [sys.executable, str(HERE / script), "--json", str(out)]
            if args.quick:
                argv.append("--quick")
            if rounds_given:  # otherwise each benchmark's own default
                argv += ["--rounds", str(args.rounds)]
            if args.src:
                argv += ["--src", str(args.src)]
            print(f"\n=== {script} ===", flush=True)
            if subprocess.run(argv, cwd=HERE.parent).returncode != 0 or not out.is_file():
                failed.append(script)
                continue
            document = json.loads(out.read_text(encoding="utf-8"))
            goals += [(script, goal) for goal in document["goals"]]
    print("\n=== every goal ===")
    harness.print_table(
        ["benchmark", "goal", "value", "limit", "met"],
        [
            (script, g["name"], f"{g['value']:.3f}{g['unit']}", f"{g['limit']:g}{g['unit']}", g["met"])
            for script, g in goals
        ],
    )
    if failed:
        print(f"\nfailed to run: {', '.join(failed)}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(
            json.dumps([{"bench": s, **g} for s, g in goals], indent=2) + "\n", encoding="utf-8"
        )
    missed = [g for _, g in goals if not g["met"]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
