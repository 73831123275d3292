"""Every command of the README's command table takes ``--golden-paths DIR``, for real.

The README says every command takes ``--golden-paths DIR``; this test reads the table in
README.md and runs each row's command in a subprocess, in a copy of the project outside the
repository whose guides are only reachable through the option (see :mod:`project_copy`). A row
without a run here, or a run for a row the README no longer has, fails the test.

Commands that need a cluster, git history, the network or run forever are run in a cheap form
that still goes through the option; each run says which form and why.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from git_repo import commit_all, git
from helpers import REPO
from project_copy import (
    GUIDES,
    cli_env,
    copy_project,
    free_port,
    goldenpath,
    goldenpath_argv,
    wait_until_served,
)

README = REPO / "README.md"
TITLE = "Hello from the copied guides"


def readme_rows() -> list[str]:
    """The rows of the README's command table: ``check``, ``check --accept``, ``history merge``...

    A row is named by its command, with its subcommand (a plain lowercase word) or, for a second
    row of the same command, its first option.
    """
    section = README.read_text(encoding="utf-8").split("## The command line", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    rows: list[str] = []
    for line in block.splitlines():
        if line.startswith("goldenpath "):
            synopsis = re.split(r"\s{2,}", line)[0]  # the description column starts after 2+ spaces
            words = [*synopsis.split(), ""]
            name = words[1]
            if re.fullmatch(r"[a-z]+", words[2]) or (name in rows and words[2].startswith("--")):
                name += f" {words[2]}"
            rows.append(name)
    return rows


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    """The command line after ``goldenpath`` (``{tmp}`` is the test's folder)."""
    ok: frozenset[int]
    """The exit codes that are right here."""
    why: str
    """Why this form of the command."""


RUNS: dict[str, Run] = {
    "check": Run(
        ("check", "--sandbox", "local", "hello-world"),
        frozenset({0}),
        "one guide on the local sandbox: the other sandboxes need a cluster; schedule checks all",
    ),
    "check --shard": Run(
        ("check", "--shard", "1/2", "--sandbox", "local", "--no-history"),
        frozenset({0}),
        "the first of two shards of every guide, on the local sandbox, not recorded",
    ),
    "check --accept": Run(
        ("check", "--accept", "--dry-run", "hello-world"),
        frozenset({0}),
        "--dry-run: compares with a real run and changes nothing",
    ),
    "lint": Run(("lint",), frozenset({0}), "as is"),
    "new": Run(("new", "hello-world", "{tmp}/scaffolded"), frozenset({0}), "the defaults of every parameter"),
    "follow": Run(
        ("follow", "hello-world", "--yes", "--from", "run-tests"),
        frozenset({1}),
        "without asking, from step 3: it runs the copy's tests, which fail since steps 1-2 made none",
    ),
    "status": Run(("status", "--format", "json"), frozenset({0}), "as is; the history is the copy's own"),
    "build": Run(("build", "--site-dir", "{tmp}/site"), frozenset({0}), "as is, strict"),
    "serve": Run(
        ("serve", "--dev-addr", "127.0.0.1:{port}"),
        frozenset({0}),
        "runs until stopped: started, fetched once, stopped with SIGINT",
    ),
    "schedule": Run(
        ("schedule", "--once"),
        frozenset({0}),
        "--once: one full run on the local sandbox and a site rebuild, instead of a cadence forever",
    ),
    "history merge": Run(
        ("history", "merge", "{tmp}/project/.goldenpath/history.sqlite", "--into", "{tmp}/merged.sqlite"),
        frozenset({0}),
        "the history the check and schedule recorded in the copy, into a new file",
    ),
    "sandbox": Run(
        ("sandbox", "status"),
        frozenset({0, 3}),
        "status only (up starts a cluster); 3 when the copy has no sandbox binaries built",
    ),
    "affected": Run(
        ("affected", "--base", "HEAD", "--format", "json"),
        frozenset({0}),
        "--base HEAD in the copy, a git repository with one commit and the changed title on top",
    ),
    "review": Run(
        ("review", "--base", "HEAD", "-o", "{tmp}/comment.md"),
        frozenset({0}),
        "--base HEAD as affected; no check results, no network",
    ),
    "owners": Run(("owners", "-o", "{tmp}/CODEOWNERS"), frozenset({0}), "written outside the copy"),
    "import": Run(
        ("import", "{tmp}/how-to.md", "--id", "imported-how-to"),
        frozenset({0}),
        "a one-step how-to; it lands in the copy, so it runs after the commands that check all",
    ),
    "schema": Run(
        ("schema", "-o", "{tmp}/schema.json"),
        frozenset({0}),
        "after import: the imported guide's id shows the schema read the copy",
    ),
}
"""In the order they run (import changes the copy, so it comes late)."""


def test_the_table_and_the_runs_name_the_same_commands() -> None:
    assert "Every command takes `--golden-paths DIR`" in README.read_text(encoding="utf-8")
    assert sorted(readme_rows()) == sorted(RUNS)


def serve_once(project: Path, argv: list[str], port: int) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        argv,
        cwd=project,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until_served(f"http://127.0.0.1:{port}/getting-started/hello-world/", process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


@pytest.mark.slow
def test_every_command_of_the_readme_takes_golden_paths(tmp_path: Path) -> None:
    project = tmp_path / "project"
    guides = copy_project(project)
    git(project, "init", "-q")
    commit_all(project, "the copy")
    spec = guides / "hello-world" / "guide.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(re.sub(r"(?m)^  title: .*$", f"  title: {TITLE}", text, count=1), encoding="utf-8")
    (tmp_path / "how-to.md").write_text(
        "# Say hi\n\nPrint a greeting.\n\n## Print it\n\n```bash\necho hi\n```\n", encoding="utf-8"
    )
    port = free_port()
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    for row in readme_rows():
        assert row in RUNS, f"README row {row!r} has no run in this test: add one"
    for row, run in RUNS.items():
        # Relative, so resolved against the current directory: the copy.
        args = [a.format(tmp=tmp_path, port=port) for a in run.args] + ["--golden-paths", GUIDES]
        if row == "serve":
            results[row] = serve_once(project, goldenpath_argv(*args), port)
        else:
            results[row] = goldenpath(project, *args)
    usage_errors = {
        row: done.stderr.strip()
        for row, done in results.items()
        if done.returncode == 2 and "usage: goldenpath" in done.stderr  # argparse's exit
    }
    assert usage_errors == {}
    failed = {
        row: (done.returncode, RUNS[row].why, done.stdout[-1500:], done.stderr[-1500:])
        for row, done in results.items()
        if done.returncode not in RUNS[row].ok
    }
    assert failed == {}

    # The commands read the copy, not the repository (which has no title TITLE).
    assert "6 golden path(s) OK" in results["lint"].stderr + results["lint"].stdout
    assert (tmp_path / "scaffolded").is_dir()
    status = {r["guide"]: r for r in json.loads(results["status"].stdout)}
    assert status["hello-world"]["title"] == TITLE
    assert f"== {TITLE} " in results["follow"].stdout
    assert status["hello-world"]["last_run"] is not None  # the check's run, in the copy's history
    page = tmp_path / "site" / "getting-started" / "hello-world" / "index.html"
    assert TITLE in page.read_text(encoding="utf-8")
    assert (
        TITLE in (project / "site" / "getting-started" / "hello-world" / "index.html").read_text()
    )  # schedule
    affected = json.loads(results["affected"].stdout)
    assert [g["id"] for g in affected["guides"]] == ["hello-world"]
    assert TITLE in (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert f"/{GUIDES}/hello-world/" in (tmp_path / "CODEOWNERS").read_text(encoding="utf-8")
    assert (guides / "imported-how-to" / "guide.yaml").is_file()
    schema = json.loads((tmp_path / "schema.json").read_text(encoding="utf-8"))
    assert "imported-how-to" in schema["$defs"]["NextStep"]["properties"]["guide"]["examples"]
