"""What a long run history costs: ``goldenpath status``, a site build and recording one more run.

A project of 50 trivial guides gets run histories of 100, 10,000 and 100,000 recorded guide runs.
The first runs come from a real ``goldenpath check`` of the project (so the rows are what the
product writes, with the current content hashes); the rest are copies of them as older runs
(run ids and times shifted back an hour per run), written through sqlite in bulk with the columns
the product created. Then, as whole processes in interleaved rounds, one per history size:

- ``goldenpath status --format json``;
- ``goldenpath build --site-dir TMP`` (the plugin reads every guide's status from the history);
- ``History.record()`` of one more guide run, timed in-process (a process that records 50 runs
  into a copy of the history and reports their median and min).

Goals: the largest history costs at most 1.5 x the smallest for status and build (flat), and
recording a run takes a few milliseconds (median <= 10 ms at every size). Making the histories
takes seconds (100,000 runs: about 2 s), so they are made afresh in a temporary folder each time
and always hold the current content hashes.

    .venv/bin/python bench/bench_history.py [--sizes 100,10000,100000] [--guides 50] [--rounds 5]
                                            [--quick] [--check] [--json FILE] [--src DIR]
"""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import harness
import yaml

FLAT_GOAL = 1.5
RECORD_GOAL_MS = 10.0
RECORDS = 50

SITE = """\
site_name: History bench
theme:
  name: material
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - attr_list
  - md_in_html
  - toc: {permalink: true}
plugins:
  - search
  - goldenpath
"""

RECORD_SCRIPT = """
import datetime, json, sys, time
from pathlib import Path
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.status.history import History

history = History(Path(sys.argv[1]))
times = []
for n in range(int(sys.argv[2])):
    now = datetime.datetime.now(datetime.timezone.utc)
    steps = tuple(
        StepResult(step_id=f"s{i}", title=f"Step {i}", number=i + 1, section="steps", outcome="passed",
                   duration=0.01)
        for i in range(2)
    )
    result = GuideResult(guide_id="guide-00", outcome="passed", run_id=f"record-{n}", started=now,
                         finished=now, sandbox="local", steps=steps, content_hash="bench")
    start = time.perf_counter()
    history.record(result)
    times.append(time.perf_counter() - start)
times.sort()
print(json.dumps({"min": times[0], "median": times[len(times) // 2]}))
"""


def write_project(root: Path, guides: int) -> Path:
    project = harness.write_project(root)
    for n in range(guides):
        guide_id = f"guide-{n:02d}"
        document = {
            "apiVersion": "goldenpath.dev/v1",
            "kind": "GoldenPath",
            "metadata": {
                "id": guide_id,
                "title": f"Guide {n}",
                "summary": "A guide with a long history.",
                "owner": f"@acme/team-{n % 5}",
                "stage": "test",
            },
            "spec": {
                "type": "how-to",
                "steps": [
                    {"id": "say", "title": "Say hello", "run": "echo hello", "expect": {"output": "hello\n"}},
                    {"id": "nothing", "title": "Do nothing", "run": "true"},
                ],
            },
        }
        folder = project / "golden_paths" / guide_id
        folder.mkdir(parents=True)
        (folder / "guide.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    (project / "mkdocs.yml").write_text(SITE, encoding="utf-8")
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# History bench\n", encoding="utf-8")
    return project


def seed(project: Path, env: dict[str, str]) -> Path:
    """The history of one real check of every guide."""
    harness.run_process([harness.GOLDENPATH, "check", "--sandbox", "local"], project, env)
    return project / ".goldenpath" / "history.sqlite"


def grow(seeded: Path, target: Path, runs: int) -> None:
    """``target``: the seeded runs and copies of them as older runs, ``runs`` guide runs in all."""
    shutil.copyfile(seeded, target)
    conn = sqlite3.connect(target)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        runs_columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        steps_columns = [row[1] for row in conn.execute("PRAGMA table_info(steps)")]
        seed_runs = list(conn.execute("SELECT * FROM runs"))
        steps_of: dict[tuple[object, object], list[tuple[object, ...]]] = {}
        for step in conn.execute("SELECT * FROM steps"):
            key = (step[steps_columns.index("run_id")], step[steps_columns.index("guide_id")])
            steps_of.setdefault(key, []).append(step)
        run_at, guide_at = runs_columns.index("run_id"), runs_columns.index("guide_id")
        times_at = (runs_columns.index("started"), runs_columns.index("finished"))
        step_run_at = steps_columns.index("run_id")
        new_runs: list[list[object]] = []
        new_steps: list[list[object]] = []
        copy = 0
        while len(seed_runs) + len(new_runs) < runs:
            copy += 1
            run_id, shift = f"bench-{copy:06d}", datetime.timedelta(hours=copy)
            for row in seed_runs[: runs - len(seed_runs) - len(new_runs)]:
                values = list(row)
                values[run_at] = run_id
                for at in times_at:
                    values[at] = (datetime.datetime.fromisoformat(str(values[at])) - shift).isoformat()
                new_runs.append(values)
                for step in steps_of.get((row[run_at], row[guide_at]), []):
                    step_values = list(step)
                    step_values[step_run_at] = run_id
                    new_steps.append(step_values)
        with conn:
            conn.executemany(f"INSERT INTO runs VALUES ({','.join('?' * len(runs_columns))})", new_runs)
            conn.executemany(f"INSERT INTO steps VALUES ({','.join('?' * len(steps_columns))})", new_steps)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (count,) = conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        assert count == runs, (count, runs)
    finally:
        conn.close()


def main() -> int:
    argparser = harness.parser(__doc__)
    argparser.add_argument("--sizes", help="comma-separated run counts (default 100,10000,100000)")
    argparser.add_argument("--guides", type=int, default=None, help="guides of the project (default 50)")
    args = harness.parse(argparser)
    sizes = [int(s) for s in (args.sizes or ("100,2000" if args.quick else "100,10000,100000")).split(",")]
    guides = args.guides or (10 if args.quick else 50)
    report = harness.Report("history", args)
    env = harness.goldenpath_env(args)
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as temp:
        base = Path(temp)
        seeded = seed(write_project(base / "seed", guides), env)
        variants: list[harness.Variant] = []
        record_runs: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
        for size in sizes:
            project = write_project(base / f"runs-{size}", guides)
            history = project / ".goldenpath" / "history.sqlite"
            history.parent.mkdir(parents=True)
            grow(seeded, history, size)
            status = [harness.GOLDENPATH, "status", "--format", "json"]
            build = [harness.GOLDENPATH, "build", "--site-dir", str(base / f"site-{size}")]
            variants.append(harness.Variant(f"status {size}", status, project, env, verify=_lists(guides)))
            variants.append(harness.Variant(f"build {size}", build, project, env))
            variants.append(_record_variant(size, project, env, record_runs[size]))
        print(
            f"{guides} guides, histories of {', '.join(map(str, sizes))} runs, {args.rounds} rounds, "
            f"{harness.describe_source(args)}"
        )
        samples = harness.interleave(variants, args.rounds)
    for size in sizes:  # the first record process was the untimed warm-up
        record_runs[size] = record_runs[size][-args.rounds :]
    small, large = sizes[0], sizes[-1]
    for command in ("status", "build"):
        table = report.summary(
            f"goldenpath {command}",
            {k: v for k, v in samples.items() if k.startswith(command)},
            f"{command} {small}",
        )
        report.goal(f"{command} {large} / {small} (min)", table[f"{command} {large}"]["ratio_min"], FLAT_GOAL)
    print(
        "\nHistory.record() of one more run, in-process (ms; min and median over the rounds of each "
        f"process's median of {RECORDS} records)"
    )
    rows = []
    for size in sizes:
        medians = [r["median"] * 1000 for r in record_runs[size]]
        fastest = min(r["min"] * 1000 for r in record_runs[size])
        median = statistics.median(medians)
        rows.append((f"record into {size}", fastest, min(medians), median))
        report.figures.setdefault("record", {})[str(size)] = {"min_ms": fastest, "median_ms": median}
        report.goal(f"record into {size} (median ms)", median, RECORD_GOAL_MS, unit=" ms")
    harness.print_table(["history", "min ms", "min median ms", "median median ms"], rows)
    return report.finish()


def _lists(guides: int) -> Callable[[str], None]:
    """A check of the output: every guide verified, so the history was read (the newest runs are
    those of the real check)."""

    def verify(output: str) -> None:
        reports, _ = json.JSONDecoder().raw_decode(output, output.index("["))
        verified = sum(1 for r in reports if r["status"] == "verified")
        if verified != guides:
            raise harness.ProcessFailed(f"status: {verified} of {guides} guides verified:\n{output[:2000]}")

    return verify


def _record_variant(
    size: int, project: Path, env: dict[str, str], into: list[dict[str, float]]
) -> harness.Variant:
    """A process that records :data:`RECORDS` runs into a copy of the history (the history the other
    variants read stays as it was)."""
    history = project / ".goldenpath" / "history.sqlite"
    copy = project / "record-copy.sqlite"

    def fresh_copy() -> None:
        for leftover in project.glob("record-copy.sqlite*"):
            leftover.unlink()
        shutil.copyfile(history, copy)

    def keep(output: str) -> None:
        into.append(json.loads(output.strip().splitlines()[-1]))

    return harness.Variant(
        f"record {size}",
        [harness.PYTHON, "-c", RECORD_SCRIPT, str(copy), str(RECORDS)],
        project,
        env,
        before=fresh_copy,
        verify=keep,
    )


if __name__ == "__main__":
    raise SystemExit(main())
