"""``goldenpath check --affected`` after a one-guide change, against a full and a single-guide run.

Builds a git repository of 50 synthetic guides (each writes a file from a template and prints it
with ``cat``), commits a change to one guide's template, then times, as real subprocesses:

- ``goldenpath check --affected --base HEAD~1`` (finds and runs the one changed guide),
- ``goldenpath check`` (all 50),
- ``goldenpath check guide-07`` (the changed guide, named by hand).

Prints the median of each and the ratios; the target is affected <= 1.2 x single-guide.

    .venv/bin/python bench/bench_affected.py [--guides 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

TARGET = 1.2
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def guide(guide_id: str) -> str:
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": guide_id,
            "title": f"Synthetic {guide_id}",
            "summary": "Benchmark guide.",
            "owner": "@acme/platform",
            "stage": "build",
        },
        "spec": {
            "type": "how-to",
            "parameters": [{"name": "name", "description": "A name.", "default": guide_id}],
            "steps": [
                {
                    "id": "write",
                    "title": "Write the greeting",
                    "file": {"path": "hello.txt", "template": "hello.txt.j2"},
                },
                {
                    "id": "show",
                    "title": "Show it",
                    "run": "cat hello.txt",
                    "expect": {"contains": ["hello from {{ name }}"]},
                },
                {"id": "say", "title": "Say done", "run": "echo done", "expect": {"output": "done\n"}},
            ],
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def make_repo(root: Path, count: int) -> list[str]:
    ids = [f"guide-{i:02d}" for i in range(count)]
    (root / "pyproject.toml").write_text('[tool.goldenpath]\ngolden_paths = "golden_paths"\n')
    (root / ".gitignore").write_text(".goldenpath/\n")
    for guide_id in ids:
        folder = root / "golden_paths" / guide_id
        (folder / "templates").mkdir(parents=True)
        (folder / "guide.yaml").write_text(guide(guide_id))
        (folder / "templates" / "hello.txt.j2").write_text("hello from {{ name }}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "guides")
    changed = root / "golden_paths" / ids[7] / "templates" / "hello.txt.j2"
    changed.write_text("hello from {{ name }}, changed\n")
    git(root, "commit", "-q", "-am", "change one guide")
    return ids


def timed(command: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        shutil.rmtree(cwd / ".goldenpath", ignore_errors=True)
        started = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guides", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    goldenpath = shutil.which("goldenpath", path=str(Path(sys.executable).parent)) or "goldenpath"
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as tmp:
        repo = Path(tmp)
        ids = make_repo(repo, args.guides)
        selected = subprocess.run(
            [goldenpath, "affected", "--base", "HEAD~1"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout
        print(selected.rstrip())
        affected = timed([goldenpath, "check", "--affected", "--base", "HEAD~1"], repo, args.repeat)
        single = timed([goldenpath, "check", ids[7]], repo, args.repeat)
        full = timed([goldenpath, "check"], repo, max(1, args.repeat // 2))
    print(f"{args.guides} guides, median of {args.repeat} run(s), wall time of the CLI:")
    print(f"  check --affected --base HEAD~1  {affected:7.2f} s")
    print(f"  check {ids[7]:<25}{single:7.2f} s")
    print(f"  check (all {args.guides}){'':<17}{full:7.2f} s")
    print(f"  affected / full    {affected / full:5.2f}")
    print(f"  affected / single  {affected / single:5.2f}  (target <= {TARGET})")
    return 0 if affected <= TARGET * single else 1


if __name__ == "__main__":
    sys.exit(main())
