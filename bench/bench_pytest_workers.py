"""Parallel checks: ``pytest -n 4`` against serial ``pytest``, ``goldenpath check -j 4`` against serial.

16 generated guides, each one step ``sleep 1``: 16 s of waiting that 4 workers should cut to
about 4 s. Each variant is a whole process in a project folder of its own (its own
``pyproject.toml``, ``checks/golden_paths.suite.yaml`` and run history; nothing is recorded in
the repository's history):

- ``pytest checks/ --sandbox local --no-history`` (serial), and with ``-n 4`` (pytest-xdist);
- ``goldenpath check --sandbox local --no-history`` (serial), and with ``-j 4``.

Goal: pytest -n 4 / serial <= 0.35 (min/min; 0.25 would be perfect). check -j 4 / serial is
shown for comparison.

    .venv/bin/python bench/bench_pytest_workers.py [--guides 16] [--sleep 1] [--rounds 5] [--quick]
                                                   [--check] [--json FILE] [--src DIR]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import harness
import yaml

WORKERS = 4
GOAL = 0.35


def write_guides(project: Path, count: int, sleep: float) -> None:
    for n in range(count):
        guide_id = f"sleepy-{n:02d}"
        document = {
            "apiVersion": "goldenpath.dev/v1",
            "kind": "GoldenPath",
            "metadata": {
                "id": guide_id,
                "title": f"Sleepy {n}",
                "summary": "Waits, as a guide waits for a deployment.",
                "owner": "@acme/platform",
                "stage": "test",
            },
            "spec": {"type": "how-to", "steps": [{"id": "wait", "title": "Wait", "run": f"sleep {sleep:g}"}]},
        }
        folder = project / "golden_paths" / guide_id
        folder.mkdir(parents=True)
        (folder / "guide.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    (project / "checks").mkdir()
    (project / "checks" / "golden_paths.suite.yaml").write_text(
        "golden_paths: ../golden_paths\n", encoding="utf-8"
    )


def ran_all(count: int, word: str) -> Callable[[str], None]:
    def verify(output: str) -> None:
        if f"{count} {word}" not in output:
            raise harness.ProcessFailed(f"expected '{count} {word}' in the output:\n{output[-2000:]}")

    return verify


def main() -> int:
    argparser = harness.parser(__doc__)
    argparser.add_argument("--guides", type=int, default=None, help="guides (default 16)")
    argparser.add_argument("--sleep", type=float, default=None, help="seconds each guide sleeps (default 1)")
    args = harness.parse(argparser)
    count = args.guides or (8 if args.quick else 16)
    sleep = args.sleep or (0.25 if args.quick else 1.0)
    report = harness.Report("pytest_workers", args)
    env = harness.goldenpath_env(args)
    # -p no:cacheprovider: no .pytest_cache; the rootdir is the project (its pyproject.toml).
    pytest = [
        harness.tool("pytest"),
        "-q",
        "-p",
        "no:cacheprovider",
        "checks/",
        "--sandbox",
        "local",
        "--no-history",
    ]
    check = [harness.GOLDENPATH, "check", "--sandbox", "local", "--no-history"]
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as temp:
        project = harness.write_project(Path(temp) / "project", extra="\n[tool.pytest.ini_options]\n")
        write_guides(project, count, sleep)
        variants = [
            harness.Variant("pytest (serial)", pytest, project, env, verify=ran_all(count, "passed")),
            harness.Variant(
                f"pytest -n {WORKERS}",
                [*pytest, "-n", str(WORKERS)],
                project,
                env,
                verify=ran_all(count, "passed"),
            ),
            harness.Variant("check (serial)", check, project, env, verify=ran_all(count, "passed")),
            harness.Variant(
                f"check -j {WORKERS}",
                [*check, "-j", str(WORKERS)],
                project,
                env,
                verify=ran_all(count, "passed"),
            ),
        ]
        print(f"{count} guides of 'sleep {sleep:g}', {args.rounds} rounds, {harness.describe_source(args)}")
        samples = harness.interleave(variants, args.rounds, warmup=False)
    pytest_table = report.summary(
        "pytest", {k: v for k, v in samples.items() if k.startswith("pytest")}, "pytest (serial)"
    )
    check_table = report.summary(
        "goldenpath check", {k: v for k, v in samples.items() if k.startswith("check")}, "check (serial)"
    )
    print(f"\nideal parallel / serial: {1 / WORKERS:.3f}; time asleep per serial run: {count * sleep:g} s")
    report.goal(
        f"pytest -n {WORKERS} / serial (min)", pytest_table[f"pytest -n {WORKERS}"]["ratio_min"], GOAL
    )
    check_ratio = check_table[f"check -j {WORKERS}"]["ratio_min"]
    print(f"check -j {WORKERS} / serial (min): {check_ratio:.3f} (for comparison)")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
