"""``goldenpath status`` over a history written by real ``goldenpath check`` runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from goldenpath.status.history import History
from helpers import write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def gp(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``tmp_path`` (the project root) with its guides in ``gp/``."""
    command = [GOLDENPATH, *args]
    if args[0] in ("check", "status"):
        command += ["--golden-paths", "gp"]
    return subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def write_guides(tmp_path: Path) -> None:
    root = tmp_path / "gp"
    write_guide(
        root,
        "good",
        [
            {"id": "hi", "title": "Say hi", "run": "echo hi", "expect": {"output": "hi"}},
            {"id": "deploy", "title": "Deploy", "run": "kubectl apply -f x", "requires": ["cluster"]},
        ],
    )
    write_guide(
        root,
        "bad",
        [
            {"id": "one", "title": "Warm up", "run": "true"},
            {"id": "oops", "title": "Fail here", "run": "echo nope; exit 4"},
        ],
        guide_type="getting-started",
        stage="integrate",
    )
    write_guide(root, "never", [{"id": "s", "title": "S", "run": "true"}])


@pytest.mark.slow
def test_table_json_markdown_and_fail_on_after_real_checks(tmp_path: Path) -> None:
    write_guides(tmp_path)
    checked = gp(tmp_path, "check", "good", "bad")
    assert checked.returncode == 1, checked.stdout + checked.stderr

    table = gp(tmp_path, "status")
    assert table.returncode == 0, table.stderr
    lines = {
        line.split()[1]: line
        for line in table.stdout.splitlines()
        if line.startswith("│ ") and line.split()[1] in ("good", "bad", "never")
    }
    # A cluster step skipped on the local sandbox: the pass is partial, never verified.
    assert "partial" in lines["good"] and "1 of 2 steps ran for real; 1 was skipped" in lines["good"]
    assert "broken" in lines["bad"] and "step 2: Fail here" in lines["bad"]
    assert "integrate" in lines["bad"] and "@acme/platform" in lines["bad"]
    assert "unverified" in lines["never"] and "never verified" in lines["never"]
    assert "1 partial, 1 broken, 1 unverified" in table.stdout

    out = gp(tmp_path, "status", "--format", "json")
    assert out.returncode == 0
    data = {item["guide"]: item for item in json.loads(out.stdout)}
    assert [item["guide"] for item in json.loads(out.stdout)] == ["bad", "good", "never"]
    assert data["good"]["status"] == "partial" and data["good"]["sandbox"] == "local"
    assert data["good"]["coverage"]["kind"] == "partial" and data["good"]["last_verified_at"] is None
    assert (data["good"]["coverage"]["real"], data["good"]["coverage"]["skipped"]) == (1, 1)
    assert data["good"]["not_verified_steps"] == ["deploy"]
    assert "bash" in data["good"]["sandbox_versions"]
    assert isinstance(data["good"]["typical_duration_seconds"], float)
    assert data["good"]["page"] == "how-to/good/" and data["good"]["owner"] == "@acme/platform"
    assert data["bad"]["status"] == "broken" and data["bad"]["failed_step"] == "oops"
    assert data["bad"]["failed_step_number"] == 2 and data["bad"]["failed_step_title"] == "Fail here"
    assert "exited with 4" in data["bad"]["failure_message"]
    assert data["never"]["status"] == "unverified" and data["never"]["last_run"] is None

    report = gp(tmp_path, "status", "--format", "markdown", "--only", "broken,stale")
    assert report.returncode == 0
    assert report.stdout.startswith("Golden paths that need attention:")
    assert "- **broken** Guide bad (`bad`, owner @acme/platform): broken at step 2" in report.stdout
    assert "good" not in report.stdout and "never" not in report.stdout

    assert gp(tmp_path, "status", "--fail-on", "broken,stale").returncode == 1
    assert gp(tmp_path, "status", "--fail-on", "stale").returncode == 0
    only = gp(tmp_path, "status", "--format", "json", "--only", "unverified", "--fail-on", "broken")
    assert only.returncode == 1  # --fail-on looks at every guide, not only the listed ones
    assert [item["guide"] for item in json.loads(only.stdout)] == ["never"]


@pytest.mark.slow
def test_markdown_is_empty_when_nothing_needs_attention_and_edits_make_stale(
    tmp_path: Path,
) -> None:
    write_guide(
        tmp_path / "gp",
        "svc",
        [
            {"id": "make", "title": "Create it", "file": {"path": "app.txt", "template": "app.txt.j2"}},
            {"id": "show", "title": "Show it", "run": "cat app.txt", "expect": {"output": "v1"}},
        ],
        templates={"app.txt.j2": "v1\n"},
    )
    assert gp(tmp_path, "check").returncode == 0
    clean = gp(
        tmp_path, "status", "--format", "markdown", "--only", "broken,stale", "--fail-on", "broken,stale"
    )
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")

    (tmp_path / "gp" / "svc" / "templates" / "app.txt.j2").write_text("v1\n# changed\n")
    stale = gp(
        tmp_path, "status", "--format", "markdown", "--only", "broken,stale", "--fail-on", "broken,stale"
    )
    assert stale.returncode == 1
    assert "**stale**" in stale.stdout and "changed since it last passed" in stale.stdout


@pytest.mark.slow
def test_no_history_and_a_history_that_cannot_be_written(tmp_path: Path) -> None:
    write_guide(tmp_path / "gp", "ok", [{"id": "s", "title": "S", "run": "true"}])
    assert gp(tmp_path, "check", "--no-history").returncode == 0
    assert not (tmp_path / ".goldenpath").exists()

    (tmp_path / ".goldenpath").write_text("a file where the history folder should be")
    out = gp(tmp_path, "check")
    assert out.returncode == 3, out.stdout + out.stderr
    # Found before any guide runs, not after the work is done.
    assert out.stdout == "" and "cannot write the run history" in out.stderr
    assert f"{tmp_path / '.goldenpath'} is not a folder" in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    status = gp(tmp_path, "status")  # nothing was recorded: the guide is still unverified
    assert status.returncode == 0 and "unverified" in status.stdout


def test_bad_options_exit_2(tmp_path: Path) -> None:
    write_guide(tmp_path / "gp", "ok", [{"id": "s", "title": "S", "run": "true"}])
    bad = gp(tmp_path, "status", "--fail-on", "broken,nope")
    assert bad.returncode == 2 and "unknown status 'nope'" in bad.stderr
    empty = gp(tmp_path, "status", "--format", "json")
    assert empty.returncode == 0 and json.loads(empty.stdout)[0]["status"] == "unverified"
    assert not History(tmp_path / ".goldenpath" / "history.sqlite").path.exists()
