"""``goldenpath check --affected`` after a one-guide change, against a full and a single-guide run.

Builds a git repository of 50 synthetic guides (each writes a file from a template and prints it
with ``cat``), commits a change to one guide's template, then times, as whole processes in
interleaved rounds (each run without the previous run's ``.goldenpath``):

- ``goldenpath check --affected --base HEAD~1`` (finds and runs the one changed guide),
- ``goldenpath check guide-07`` (the changed guide, named by hand),
- ``goldenpath check`` (all 50).

Prints min and median of each and the ratios; goal: affected / single <= 1.2 (min/min).

    .venv/bin/python bench/bench_affected.py [--guides 50] [--rounds 5] [--quick] [--check]
                                             [--json FILE] [--src DIR]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import harness
import yaml

GOAL = 1.2
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


def main() -> int:
    argparser = harness.parser(__doc__)
    argparser.add_argument("--guides", type=int, default=None, help="guides in the repository (default 50)")
    args = harness.parse(argparser)
    count = args.guides or (10 if args.quick else 50)
    report = harness.Report("affected", args)
    env = harness.goldenpath_env(args)
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-") as tmp:
        repo = Path(tmp)
        ids = make_repo(repo, count)
        changed = ids[min(7, count - 1)]
        selected = subprocess.run(
            [harness.GOLDENPATH, "affected", "--base", "HEAD~1"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        ).stdout
        print(f"goldenpath affected --base HEAD~1: {selected.strip()}")

        def fresh() -> None:
            shutil.rmtree(repo / ".goldenpath", ignore_errors=True)

        check = [harness.GOLDENPATH, "check"]
        variants = [
            harness.Variant(
                "check --affected",
                [*check, "--affected", "--base", "HEAD~1"],
                repo,
                env,
                before=fresh,
                verify=_ran(1),
            ),
            harness.Variant(f"check {changed}", [*check, changed], repo, env, before=fresh, verify=_ran(1)),
            harness.Variant(f"check (all {count})", check, repo, env, before=fresh, verify=_ran(count)),
        ]
        print(f"{count} guides, {args.rounds} rounds, {harness.describe_source(args)}")
        samples = harness.interleave(variants, args.rounds)
    table = report.summary("whole processes", samples, baseline=f"check {changed}")
    affected = table["check --affected"]
    print(f"\naffected / full: {affected['min'] / table[f'check (all {count})']['min']:.3f} (min/min)")
    report.goal("affected / single (min)", affected["ratio_min"], GOAL)
    return report.finish()


def _ran(guides: int) -> Callable[[str], None]:
    def verify(output: str) -> None:
        if f"{guides} passed" not in output:
            raise harness.ProcessFailed(f"expected '{guides} passed' in the output:\n{output[-2000:]}")

    return verify


if __name__ == "__main__":
    raise SystemExit(main())
