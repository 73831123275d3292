"""What a guide of many trivial steps costs end to end, against one bash loop and prysk.

N steps (``echo x``, expected output ``x``, alternating with ``true``), each variant a whole
process, in interleaved rounds:

- floor: one bash process running a script of the same commands, capturing each command's
  output and comparing it with the expected text (``out=$(echo x); [ "$out" = x ]``);
- goldenpath (pipe): ``goldenpath check --sandbox local --no-history`` of a guide of those
  steps, its output to a pipe (as in CI);
- goldenpath (terminal): the same on a pseudo-terminal, with the live display a user watches;
- prysk: a ``.t`` file of the same commands and outputs (skipped when prysk is not installed:
  ``pip install -e '.[bench]'``).

Prints seconds (min, median), ms per step and the ratios; goals: goldenpath/floor <= 1.0 and
goldenpath/prysk <= 2.0 (both min/min, pipe and terminal).

    .venv/bin/python bench/bench_steps.py [--steps 1000] [--rounds 5] [--quick] [--check]
                                          [--json FILE] [--src DIR]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import harness
import yaml

FLOOR_GOAL = 1.0
PRYSK_GOAL = 2.0


def commands(count: int) -> list[tuple[str, str | None]]:
    """(command, expected output or None for "exits 0") of each step."""
    return [("echo x", "x") if i % 2 == 0 else ("true", None) for i in range(count)]


def write_guide(project: Path, count: int) -> None:
    steps = []
    for i, (command, output) in enumerate(commands(count)):
        step: dict[str, object] = {"id": f"s{i}", "title": f"Step {i}", "run": command}
        if output is not None:
            step["expect"] = {"output": output + "\n"}
        steps.append(step)
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": "bench",
            "title": "Bench",
            "summary": "Trivial steps.",
            "owner": "@acme/platform",
            "stage": "test",
        },
        "spec": {"type": "how-to", "steps": steps},
    }
    folder = project / "golden_paths" / "bench"
    folder.mkdir(parents=True)
    (folder / "guide.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def write_bash_script(path: Path, count: int) -> None:
    lines = ["set -u"]
    for command, output in commands(count):
        if output is None:
            lines.append(f"{command} || exit 1")
        else:
            lines.append(f'out=$({command}); [ "$out" = {output} ] || exit 1')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_prysk_test(path: Path, count: int) -> None:
    lines = []
    for command, output in commands(count):
        lines.append(f"  $ {command}")
        if output is not None:
            lines.append(f"  {output}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def reports_steps(count: int) -> Callable[[str], None]:
    """A check of the output: the display showed every step (a run that shows less is not the
    run a user watches)."""

    def verify(output: str) -> None:
        shown = output.count(f"Step {count - 1}")
        if shown < 1 or output.count("✓") < count:
            raise harness.ProcessFailed(f"goldenpath check did not show every step:\n{output[-2000:]}")

    return verify


def main() -> int:
    argparser = harness.parser(__doc__)
    argparser.add_argument("--steps", type=int, default=None, help="steps of the guide (default 1000)")
    args = harness.parse(argparser)
    count = args.steps or (200 if args.quick else 1000)
    report = harness.Report("steps", args)
    prysk = harness.tool("prysk")
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as temp:
        project = harness.write_project(Path(temp) / "project")
        write_guide(project, count)
        write_bash_script(project / "floor.sh", count)
        write_prysk_test(project / "steps.t", count)
        check = [
            harness.GOLDENPATH,
            "check",
            "--sandbox",
            "local",
            "--no-history",
            "--golden-paths",
            "golden_paths",
            "bench",
        ]
        env = harness.goldenpath_env(args)
        variants = [
            harness.Variant("floor (one bash)", ["bash", "floor.sh"], project),
            harness.Variant("goldenpath (pipe)", check, project, env, verify=reports_steps(count)),
            harness.Variant(
                "goldenpath (terminal)", check, project, env, terminal=True, verify=reports_steps(count)
            ),
        ]
        if Path(prysk).exists():
            # --shell bash: the same shell as the floor and the guide's steps.
            variants.append(harness.Variant("prysk", [prysk, "--shell", "bash", "steps.t"], project))
        else:
            print("note: prysk is not installed (pip install -e '.[bench]'); its variant is skipped")
        print(f"{count} steps, {args.rounds} rounds, {harness.describe_source(args)}")
        samples = harness.interleave(variants, args.rounds)
    table = report.summary("whole processes", samples, baseline="floor (one bash)", per=count)
    for name in ("goldenpath (pipe)", "goldenpath (terminal)"):
        report.goal(f"{name} / floor (min)", table[name]["ratio_min"], FLOOR_GOAL)
    pipe, terminal = table["goldenpath (pipe)"], table["goldenpath (terminal)"]
    print(
        f"\ngoldenpath terminal / pipe: {terminal['min'] / pipe['min']:.3f} (min/min), "
        f"{terminal['median'] / pipe['median']:.3f} (median/median)"
    )
    if "prysk" in table:
        for name in ("goldenpath (pipe)", "goldenpath (terminal)"):
            ratio_min = table[name]["min"] / table["prysk"]["min"]
            ratio_median = table[name]["median"] / table["prysk"]["median"]
            print(f"{name} / prysk: {ratio_min:.3f} (min/min), {ratio_median:.3f} (median/median)")
            report.figures["whole processes"][name]["prysk_ratio_min"] = ratio_min
            report.figures["whole processes"][name]["prysk_ratio_median"] = ratio_median
            report.goal(f"{name} / prysk (min)", ratio_min, PRYSK_GOAL)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
