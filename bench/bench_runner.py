"""Per-step overhead of the runner against a plain ``bash -c`` loop.

Runs the same trivial commands (``true`` and ``echo x``) as the steps of one guide through the
runner (one persistent shell, output captured per step, state saved after each step) and, for
comparison, as one ``bash -c`` subprocess per command. Prints both and their ratio; the target is
a ratio of at most 1.3.

    .venv/bin/python bench/bench_runner.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from goldenpath.run import runner
from goldenpath.sandbox.local import LocalSandbox
from goldenpath.spec import loader

TARGET = 1.3


def commands(count: int) -> list[str]:
    return ["true" if i % 2 else "echo x" for i in range(count)]


def write_guide(folder: Path, count: int) -> Path:
    steps = [
        {"id": f"s{i}", "title": f"Step {i}", "run": command} for i, command in enumerate(commands(count))
    ]
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
    path = folder / "bench" / "guide.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return folder


def bench_bash_loop(count: int) -> float:
    start = time.perf_counter()
    for command in commands(count):
        subprocess.run(["bash", "-c", command], capture_output=True, check=True)
    return time.perf_counter() - start


def bench_runner(count: int) -> float:
    with tempfile.TemporaryDirectory() as temp:
        (guide,) = loader.load_guides(write_guide(Path(temp), count))
        rendered = runner.prepare(guide)
        start = time.perf_counter()
        result = runner.run_guide(rendered, LocalSandbox())
        elapsed = time.perf_counter() - start
    assert result.outcome == "passed" and len(result.steps) == count, result.outcome
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    bench_bash_loop(20)  # warm caches
    baseline = bench_bash_loop(args.steps)
    ours = bench_runner(args.steps)
    ratio = ours / baseline
    print(f"steps:                 {args.steps}")
    print(f"bash -c loop:          {baseline:.3f}s ({baseline / args.steps * 1000:.2f} ms/step)")
    print(
        f"goldenpath runner:     {ours:.3f}s ({ours / args.steps * 1000:.2f} ms/step, "
        "including sandbox setup and teardown)"
    )
    print(f"ratio runner/bash -c:  {ratio:.2f} (target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
