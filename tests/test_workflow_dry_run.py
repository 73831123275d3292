"""Every job of every workflow, run on this machine as a GitHub-hosted runner would run it
(:mod:`workflow_runner`): the scripts and flags the workflows call exist and succeed.

The jobs clone a bare copy of this repository, so what they push (the run history branch) lands
there; the guides they check run on the session's real node. Steps that need GitHub itself or
Docker are listed as not run, with the reason.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflow_runner import Job, Runner

pytestmark = [pytest.mark.slow, pytest.mark.node, pytest.mark.cluster, pytest.mark.xdist_group("realnode")]

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NOT_RUN = {
    "Run the tests": "it is `bash .ci/run`, which runs this very test",
    "Post or update the review comment": "posts to the pull request through GitHub's API",
    "Keep the stale-guides issue up to date": "edits an issue through GitHub's API",
    "actions/deploy-pages": "deploys to GitHub Pages",
    "helm/kind-action": "needs Docker",
    "Run a registry that answers as registry.example.com": "needs Docker",
    "Push the platform's base image": "needs Docker",
    "Check the guides on kind": "needs the kind cluster, which needs Docker",
}
DRY_RUN = {
    ("tests.yml", "test"),
    ("pull-request.yml", "verify"),
    ("pull-request.yml", "comment"),
    ("scheduled-checks.yml", "check"),
    ("scheduled-checks.yml", "publish"),
    ("scheduled-checks.yml", "deploy"),
    ("kind-checks.yml", "check"),
}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare copy of this repository, with a pull request's branch that changes one guide."""
    root = tmp_path_factory.mktemp("workflows")
    bare = root / "origin.git"
    git("clone", "-q", "--bare", str(ROOT), str(bare))
    change = root / "change"
    git("clone", "-q", str(bare), str(change))
    spec = change / "golden_paths" / "use-a-service" / "guide.yaml"
    spec.write_text(spec.read_text().replace("title: Look at one pod", "title: Look at one of the pods"))
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "A changed title", cwd=change)
    git("push", "-q", "origin", "HEAD:refs/heads/pr-change", cwd=change)
    return bare


def runner(origin: Path, tmp: Path, **github: Any) -> Runner:
    head = git("rev-parse", github.pop("head", "main"), cwd=origin)
    context = {"repository": "acme/golden-paths", "run_id": "4242", "sha": head, "token": "", **github}
    return Runner(origin, tmp, context, NOT_RUN, vars={"GOLDENPATH_PREVIEW_URL": ""})


def passed(job: Job) -> None:
    assert job.failed == "", "\n\n".join(job.log[-3:])


def test_every_job_has_a_dry_run() -> None:
    jobs = {
        (path.name, job)
        for path in WORKFLOWS.glob("*.yml")
        for job in yaml.safe_load(path.read_text())["jobs"]
    }
    assert jobs == DRY_RUN


def test_tests_workflow(origin: Path, tmp_path: Path) -> None:
    job = runner(origin, tmp_path, event_name="push", ref="refs/heads/main").run(
        WORKFLOWS / "tests.yml", "test"
    )
    passed(job)
    assert job.not_run == [("Run the tests", NOT_RUN["Run the tests"])]
    assert "Save the built sandbox" in job.ran  # on main, where pull requests restore it from


def test_pull_request_workflow(origin: Path, tmp_path: Path, real_node: Any) -> None:
    real_node.up()
    run = runner(
        origin,
        tmp_path,
        head="pr-change",
        event_name="pull_request",
        base_ref="main",
        ref="refs/pull/7/merge",
        event={"pull_request": {"number": 7, "head": {"repo": {"full_name": "acme/golden-paths"}}}},
        server_url="https://github.com",
    )
    verify = run.run(WORKFLOWS / "pull-request.yml", "verify")
    passed(verify)
    for step in (
        "Build the site (strict)",
        "Lint the guides (strict)",
        "Check the affected guides",
        "Write the review",
    ):
        assert step in verify.ran, verify.skipped
    assert verify.outputs == {"review": "true"}
    comment = (tmp_path / "artifacts" / "goldenpath-review" / "review" / "comment.md").read_text()
    assert "use-a-service" in comment
    junit = (tmp_path / "artifacts" / "goldenpath-review" / "junit.xml").read_text()
    assert 'name="use-a-service"' in junit and "<failure" not in junit
    posted = run.run(
        WORKFLOWS / "pull-request.yml",
        "comment",
        needs={"verify": {"outputs": verify.outputs, "result": "success"}},
    )
    passed(posted)
    assert posted.not_run == [
        ("Post or update the review comment", NOT_RUN["Post or update the review comment"])
    ]


def test_scheduled_workflow_merges_its_shards_into_the_history_branch(
    origin: Path, tmp_path: Path, real_node: Any
) -> None:
    real_node.up()
    run = runner(origin, tmp_path, event_name="schedule", ref="refs/heads/main")
    workflow = WORKFLOWS / "scheduled-checks.yml"
    shards = [run.run(workflow, "check", matrix={"shard": k}, inputs={"guides": ""}) for k in (1, 2)]
    for shard in shards:
        passed(shard)
    recorded = [_runs(tmp_path / "artifacts" / f"guide-checks-{k}" / f"history-{k}.sqlite") for k in (1, 2)]
    assert recorded[0] and recorded[1] and not recorded[0] & recorded[1]  # each guide in one shard
    publish = run.run(workflow, "publish", needs={"check": {"result": "success", "outputs": {}}})
    passed(publish)
    assert (
        "Keep the stale-guides issue up to date",
        NOT_RUN["Keep the stale-guides issue up to date"],
    ) in publish.not_run
    pushed = tmp_path / "pushed.sqlite"
    pushed.write_bytes(
        subprocess.run(
            ["git", "show", "goldenpath-history:history.sqlite"], cwd=origin, check=True, capture_output=True
        ).stdout
    )
    assert _runs(pushed) == recorded[0] | recorded[1]  # every run of both shards, once
    assert (tmp_path / "artifacts" / "github-pages" / "status" / "index.html").is_file()
    deploy = run.run(workflow, "deploy", needs={"publish": {"result": "success"}})
    assert deploy.not_run == [("actions/deploy-pages@v4", NOT_RUN["actions/deploy-pages"])]


def test_kind_workflow_runs_up_to_what_needs_docker(origin: Path, tmp_path: Path) -> None:
    job = runner(origin, tmp_path, event_name="workflow_dispatch", ref="refs/heads/main").run(
        WORKFLOWS / "kind-checks.yml", "check", inputs={"guides": ""}
    )
    passed(job)
    assert "Set up" in job.ran
    assert {name for name, _ in job.not_run} == {
        "Run a registry that answers as registry.example.com",
        "Create the kind cluster, trusting the registry",
        "Push the platform's base image",
        "Check the guides on kind",
    }


def _runs(history: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(history) as conn:
        return {(str(g), str(r)) for g, r in conn.execute("SELECT guide_id, run_id FROM runs")}
