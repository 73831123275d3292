"""Shared helpers of the benchmarks: whole processes timed in interleaved rounds, a table, goals.

A benchmark describes its variants (a command, its folder and environment), runs them with
:func:`interleave` (each round runs every variant once, in order, so a slow moment of a shared
machine hits all of them), prints min and median per variant with the ratios to a baseline,
and checks its goals. Every script built on it takes the same options:

    --rounds N     rounds of the variants (default per script, usually 5)
    --quick        small sizes and 2 rounds: a smoke run that finishes well under a minute
    --check        exit 1 when a goal is missed (without it, always exit 0)
    --json FILE    also write the figures as JSON
    --src DIR      run the goldenpath processes with PYTHONPATH=DIR first, e.g. an older
                   snapshot: git archive OLD_COMMIT src | tar -x -C /tmp/before, then
                   --src /tmp/before/src (default: $GOLDENPATH_BENCH_SRC; see README.md)
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import io
import json
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent
PYTHON = str(VENV_BIN / "python")
GOLDENPATH = str(VENV_BIN / "goldenpath")
SRC_ENV = "GOLDENPATH_BENCH_SRC"
QUIET_ENV = {"NO_MKDOCS_2_WARNING": "1"}


def tool(name: str) -> str:
    """A command of the venv this script runs in (pytest, prysk, mkdocs), else from $PATH."""
    found = VENV_BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


@dataclass(frozen=True)
class Sample:
    """One timed process: wall time (what the user waits for) and CPU time of it and its children."""

    wall: float
    cpu: float


class ProcessFailed(SystemExit):
    """A timed process exited with an unexpected code: its figures would measure the wrong thing."""


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    *,
    terminal: bool = False,
    expect_code: int = 0,
) -> tuple[Sample, str]:
    """Run one whole process, timed from start to exit; return its times and its output.

    With ``terminal`` its stdin, stdout and stderr are a pseudo-terminal of 120x40 (as a user's
    terminal), read as fast as it writes; else its stdout and stderr are pipes.
    """
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    start = time.perf_counter()
    if terminal:
        process, output = _run_on_terminal(argv, cwd, full_env)
    else:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        with process.stdout:
            output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    text = output.decode("utf-8", "replace")
    if process.returncode != expect_code:
        command = " ".join(argv)
        raise ProcessFailed(
            f"{command} (in {cwd}) exited {process.returncode}, expected {expect_code}:\n{text[-3000:]}"
        )
    return Sample(wall, usage.ru_utime + usage.ru_stime), text


def _run_on_terminal(
    argv: Sequence[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], bytes]:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {"TERM": "xterm-256color", **env}
    try:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower, start_new_session=True
        )
    finally:
        os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError as exc:  # EIO: every holder of the terminal has closed it
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return process, b"".join(chunks)


@dataclass
class Variant:
    """One thing to time: a process, run once per round."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    terminal: bool = False
    expect_code: int = 0
    before: Callable[[], None] | None = None
    """Untimed preparation before each run, e.g. removing a cache for a cold run."""
    verify: Callable[[str], None] | None = None
    """Called with the output of each run; raises when the run did not do what is measured."""

    def run(self) -> Sample:
        if self.before is not None:
            self.before()
        sample, output = run_process(
            self.argv, self.cwd, self.env, terminal=self.terminal, expect_code=self.expect_code
        )
        if self.verify is not None:
            self.verify(output)
        return sample


def interleave(
    variants: Sequence[Variant], rounds: int, warmup: bool = True, progress: bool = True
) -> dict[str, list[Sample]]:
    """Each round runs every variant once, in the given order; an untimed first run of each warms
    the file cache and the bytecode (unless ``warmup`` is False, for variants that take long)."""
    if warmup:
        for variant in variants:
            variant.run()
    samples: dict[str, list[Sample]] = {v.name: [] for v in variants}
    for number in range(1, rounds + 1):
        for variant in variants:
            samples[variant.name].append(variant.run())
        if progress:
            print(f"  round {number}/{rounds} done", file=sys.stderr, flush=True)
    return samples


def wall_min(samples: Sequence[Sample]) -> float:
    return min(s.wall for s in samples)


def wall_median(samples: Sequence[Sample]) -> float:
    return statistics.median(s.wall for s in samples)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Columns aligned: the first to the left, the others (figures) to the right."""
    cells = [[str(h) for h in headers], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Goal:
    """A figure and its limit: met when ``value <= limit`` (or ``<`` when ``strict``)."""

    name: str
    value: float
    limit: float
    strict: bool = False
    unit: str = ""

    @property
    def met(self) -> bool:
        return self.value < self.limit if self.strict else self.value <= self.limit

    def describe(self) -> str:
        sign = "<" if self.strict else "<="
        state = "met" if self.met else "MISSED"
        return f"{self.name}: {self.value:.3f}{self.unit} (goal {sign} {self.limit:g}{self.unit}) {state}"


@dataclass
class Report:
    """The figures of one benchmark run: printed as tables as it goes, written with ``--json``."""

    bench: str
    args: argparse.Namespace
    figures: dict[str, Any] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)

    def summary(
        self,
        title: str,
        samples: Mapping[str, Sequence[Sample]],
        baseline: str | None,
        per: float | None = None,
        per_label: str = "ms/step",
    ) -> dict[str, dict[str, Any]]:
        """Print min and median wall seconds of each variant (and CPU seconds, and milliseconds per
        unit of work when ``per`` is given) with the ratios min/min and median/median to
        ``baseline``; return those figures by variant."""
        print(f"\n{title}" + (f" (ratios to {baseline})" if baseline is not None else ""))
        headers = ["variant", "min s", "median s", "cpu min s"]
        if per:
            headers += [f"min {per_label}", f"median {per_label}"]
        if baseline is not None:
            headers += ["min ratio", "median ratio", "cpu min ratio"]
        rows = []
        table: dict[str, dict[str, Any]] = {}
        for name, runs in samples.items():
            figures: dict[str, Any] = {
                "min": wall_min(runs),
                "median": wall_median(runs),
                "cpu_min": min(s.cpu for s in runs),
                "runs": [round(s.wall, 6) for s in runs],
            }
            row: list[object] = [name, figures["min"], figures["median"], figures["cpu_min"]]
            if per:
                row += [_ms(figures["min"] / per), _ms(figures["median"] / per)]
            if baseline is not None:
                base = samples[baseline]
                figures["ratio_min"] = figures["min"] / wall_min(base)
                figures["ratio_median"] = figures["median"] / wall_median(base)
                figures["ratio_cpu_min"] = figures["cpu_min"] / max(min(s.cpu for s in base), 1e-9)
                row += [figures["ratio_min"], figures["ratio_median"], figures["ratio_cpu_min"]]
            rows.append(row)
            table[name] = figures
        print_table(headers, rows)
        self.figures[title] = table
        return table

    def goal(self, name: str, value: float, limit: float, strict: bool = False, unit: str = "") -> None:
        self.goals.append(Goal(name, value, limit, strict, unit))

    def finish(self) -> int:
        """Print the goals, write the JSON; the exit code: 1 with ``--check`` and a missed goal."""
        if self.goals:
            print("\ngoals")
            for goal in self.goals:
                print(f"  {goal.describe()}")
        if self.args.json:
            document = {
                "bench": self.bench,
                "rounds": self.args.rounds,
                "src": self.args.src,
                "figures": self.figures,
                "goals": [{**vars(g), "met": g.met} for g in self.goals],
            }
            Path(self.args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        missed = [g for g in self.goals if not g.met]
        return 1 if self.args.check and missed else 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def parser(doc: str | None, rounds: int = 5) -> argparse.ArgumentParser:
    """The options every benchmark takes (see the module docstring)."""
    result = argparse.ArgumentParser(
        description=(doc or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    result.add_argument("--rounds", type=int, default=None, help=f"interleaved rounds (default {rounds})")
    result.add_argument("--quick", action="store_true", help="small sizes, 2 rounds: a smoke run")
    result.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    result.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    result.add_argument(
        "--src",
        metavar="DIR",
        default=os.environ.get(SRC_ENV) or None,
        help=f"put DIR first on PYTHONPATH of the goldenpath processes (default: ${SRC_ENV})",
    )
    result.set_defaults(default_rounds=rounds)
    return result


def parse(argparser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = argparser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # tables and progress (on stderr) in order
        sys.stdout.reconfigure(line_buffering=True)
    if args.rounds is None:
        args.rounds = 2 if args.quick else args.default_rounds
    if args.src:
        args.src = str(Path(args.src).resolve())
        if not (Path(args.src) / "goldenpath").is_dir():
            argparser.error(f"--src {args.src}: no goldenpath package in it")
    return args


def goldenpath_env(args: argparse.Namespace, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a goldenpath process: with ``--src``, that source first on PYTHONPATH."""
    env = dict(extra or {})
    if args.src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.src, os.environ.get("PYTHONPATH")) if p)
    return env


def describe_source(args: argparse.Namespace) -> str:
    """Which goldenpath the processes import, as they import it (``--src`` or the installed one)."""
    found = subprocess.run(
        [PYTHON, "-c", "import goldenpath; print(goldenpath.__file__)"],
        env={**os.environ, **goldenpath_env(args)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"goldenpath from {Path(found).parent.parent}"


def write_project(root: Path, golden_paths: str = "golden_paths", extra: str = "") -> Path:
    """A project folder of its own: ``pyproject.toml`` with its golden paths and a run history
    inside it, so no benchmark touches the repository's history."""
    root.mkdir(parents=True, exist_ok=True)
    settings = f'[tool.goldenpath]\ngolden_paths = "{golden_paths}"\nhistory = ".goldenpath/history.sqlite"\n'
    (root / "pyproject.toml").write_text(settings + extra, encoding="utf-8")
    return root
