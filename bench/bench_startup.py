"""Start-up time: ``goldenpath --version`` and a check of one trivial guide, as whole processes.

Floors: ``python -c pass`` (the venv's interpreter) and ``bash -c true``. The check is
``goldenpath check --sandbox local --no-history`` of one guide of one ``true`` step in a
project folder of its own. Goals (min of the rounds): ``--version`` < 60 ms, the one-guide
check < 120 ms. Then, for information, the 10 modules with the largest cumulative import time
of ``goldenpath --version`` (``python -X importtime``).

    .venv/bin/python bench/bench_startup.py [--rounds 20] [--quick] [--check] [--json FILE] [--src DIR]
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import harness
import yaml

VERSION_GOAL = 0.060
CHECK_GOAL = 0.120
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def write_guide(project: Path) -> None:
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": "trivial",
            "title": "Trivial",
            "summary": "One step that does nothing.",
            "owner": "@acme/platform",
            "stage": "test",
        },
        "spec": {"type": "how-to", "steps": [{"id": "nothing", "title": "Do nothing", "run": "true"}]},
    }
    folder = project / "golden_paths" / "trivial"
    folder.mkdir(parents=True)
    (folder / "guide.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def import_times(env: dict[str, str], top: int = 10) -> list[tuple[float, float, str, int]]:
    """(cumulative ms, self ms, module, nesting level) of the slowest imports, slowest first."""
    result = subprocess.run(
        [harness.PYTHON, "-X", "importtime", harness.GOLDENPATH, "--version"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for line in result.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            own, cumulative, indent, module = match.groups()
            found.append((int(cumulative) / 1000, int(own) / 1000, module, (len(indent) - 1) // 2))
    return sorted(found, reverse=True)[:top]


def main() -> int:
    args = harness.parse(harness.parser(__doc__, rounds=20))
    report = harness.Report("startup", args)
    env = harness.goldenpath_env(args)
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as temp:
        project = harness.write_project(Path(temp) / "project")
        write_guide(project)
        variants = [
            harness.Variant("bash -c true", ["bash", "-c", "true"], project),
            harness.Variant("python -c pass", [harness.PYTHON, "-c", "pass"], project),
            harness.Variant("goldenpath --version", [harness.GOLDENPATH, "--version"], project, env),
            harness.Variant(
                "goldenpath check (1 guide)",
                [harness.GOLDENPATH, "check", "--sandbox", "local", "--no-history", "trivial"],
                project,
                env,
            ),
        ]
        print(f"{args.rounds} rounds, {harness.describe_source(args)}")
        samples = harness.interleave(variants, args.rounds)
    table = report.summary("whole processes", samples, baseline="python -c pass")
    report.goal(
        "goldenpath --version (min)",
        table["goldenpath --version"]["min"] * 1000,
        VERSION_GOAL * 1000,
        True,
        " ms",
    )
    report.goal(
        "goldenpath check, 1 guide (min)",
        table["goldenpath check (1 guide)"]["min"] * 1000,
        CHECK_GOAL * 1000,
        True,
        " ms",
    )
    slowest = import_times(env)
    print("\nslowest imports of goldenpath --version (python -X importtime, one run; level 0: first-hand)")
    harness.print_table(
        ["module", "cumulative ms", "self ms", "level"], [(m, c, s, n) for c, s, m, n in slowest]
    )
    report.figures["imports"] = [
        {"module": m, "cumulative_ms": c, "self_ms": s, "level": n} for c, s, m, n in slowest
    ]
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
