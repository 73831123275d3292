"""`goldenpath affected` and `check --affected` on a real git repository in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from git_repo import commit_all, edit, git, make_repo
from goldenpath import config
from goldenpath.cli.main import main
from goldenpath.errors import UserError
from goldenpath.review.affected import AffectedReport, affected
from goldenpath.review.dependencies import guide_dependencies, template_names
from goldenpath.spec.loader import load_guides


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "docs")


def run(repo: Path, base: str = "main") -> AffectedReport:
    return affected(base, config.load_settings(repo))


def ids(report: AffectedReport) -> dict[str, str]:
    return {g.id: g.status for g in report.guides}


def test_nothing_changed_selects_nothing(repo: Path) -> None:
    report = run(repo)
    assert report.guides == ()
    assert report.to_check == []


def test_spec_edit_selects_only_that_guide(repo: Path) -> None:
    edit(repo / "golden_paths/gamma/guide.yaml", "Show it", "Show the file")
    report = run(repo)
    assert ids(report) == {"gamma": "changed"}
    assert report.guides[0].reasons == ("golden_paths/gamma/guide.yaml (spec)",)


def test_template_edit_selects_only_its_guide(repo: Path) -> None:
    edit(repo / "golden_paths/gamma/templates/gamma.txt.j2", "gamma", "GAMMA")
    assert ids(run(repo)) == {"gamma": "changed"}


def test_shared_partial_edit_selects_every_guide_that_includes_it(repo: Path) -> None:
    edit(repo / "golden_paths/_shared/partials/footer.j2", "made by", "written by")
    report = run(repo)
    assert ids(report) == {"alpha": "changed", "beta": "changed"}
    reasons = {g.id: g.reasons for g in report.guides}
    assert reasons["alpha"] == ("golden_paths/_shared/partials/footer.j2 (template partials/footer.j2)",)
    assert reasons["beta"] == ("golden_paths/_shared/partials/footer.j2 (template footer.j2)",)


def test_extended_layout_edit_selects_its_guide(repo: Path) -> None:
    # main.txt.j2 extends layout.j2, a symlink to base.j2: a change to base.j2 matters.
    edit(repo / "golden_paths/beta/templates/base.j2", "{% block body %}", "BODY {% block body %}")
    assert ids(run(repo)) == {"beta": "changed"}


def test_dependencies_follow_symlinks_and_jinja_references(repo: Path) -> None:
    guides = {g.id: g for g in load_guides(repo / "golden_paths")}
    assert template_names(guides["beta"]) == {"main.txt.j2", "layout.j2", "footer.j2"}
    deps = guide_dependencies(guides["alpha"], repo.resolve())
    assert "golden_paths/alpha/templates/partials" in deps  # the symlinked folder itself
    assert "golden_paths/_shared/partials/footer.j2" in deps


def test_rename_is_reported_and_checks_the_new_id(repo: Path) -> None:
    git(repo, "mv", "golden_paths/gamma", "golden_paths/delta")
    edit(repo / "golden_paths/delta/guide.yaml", "id: gamma", "id: delta")
    report = run(repo)
    assert ids(report) == {"delta": "renamed"}
    assert report.guides[0].previous_id == "gamma"
    assert report.to_check == ["delta"]


def test_deletion_is_reported_and_not_checked(repo: Path) -> None:
    git(repo, "rm", "-q", "-r", "golden_paths/beta")
    report = run(repo)
    assert ids(report) == {"beta": "removed"}
    assert report.to_check == []


def test_added_guide_untracked(repo: Path) -> None:
    (repo / "golden_paths/epsilon").mkdir()
    (repo / "golden_paths/gamma/guide.yaml").rename(repo / "golden_paths/epsilon/guide.yaml")
    git(repo, "checkout", "--", "golden_paths/gamma/guide.yaml")
    edit(repo / "golden_paths/epsilon/guide.yaml", "id: gamma", "id: epsilon")
    (repo / "golden_paths/epsilon/templates").symlink_to("../gamma/templates")
    assert ids(run(repo)) == {"epsilon": "added"}


def test_unrelated_files_select_nothing(repo: Path) -> None:
    edit(repo / "README.md", "Docs", "Our docs")
    edit(repo / "tests/test_something.py", "pass", "assert True")
    (repo / "golden_paths/gamma/NOTES.md").write_text("not rendered\n")
    report = run(repo)
    assert report.guides == ()
    assert len(report.changes) == 3


def test_committed_change_against_an_older_revision(repo: Path) -> None:
    edit(repo / "golden_paths/alpha/templates/app.txt.j2", "hello", "hi")
    commit_all(repo)
    assert ids(run(repo, "HEAD~1")) == {"alpha": "changed"}
    assert ids(run(repo, "HEAD")) == {}


def test_compares_with_the_merge_base_not_the_moved_target(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo / "golden_paths/alpha/guide.yaml", "Show it", "Show the file")
    commit_all(repo)
    git(repo, "checkout", "-q", "main")
    edit(repo / "golden_paths/beta/guide.yaml", "Show it", "Print it")
    commit_all(repo)
    git(repo, "checkout", "-q", "feature")
    assert ids(run(repo, "main")) == {"alpha": "changed"}


def test_page_template_override_selects_every_guide(repo: Path) -> None:
    (repo / "page_templates").mkdir()
    (repo / "page_templates/page.md.j2").write_text('{% extends "goldenpath/page.md.j2" %}\n')
    edit(
        repo / "pyproject.toml",
        'golden_paths = "golden_paths"',
        'golden_paths = "golden_paths"\npage_templates = "page_templates"',
    )
    commit_all(repo)
    (repo / "page_templates/page.md.j2").write_text("{{ meta.title }}\n")
    report = run(repo, "HEAD")
    assert ids(report) == {"alpha": "changed", "beta": "changed", "gamma": "changed"}
    assert report.everything == "page template changed: page_templates/page.md.j2"


def test_goldenpath_settings_select_every_guide_but_other_pyproject_edits_do_not(repo: Path) -> None:
    edit(repo / "pyproject.toml", 'version = "1"', 'version = "2"')
    assert ids(run(repo)) == {}
    edit(
        repo / "pyproject.toml",
        'golden_paths = "golden_paths"',
        'golden_paths = "golden_paths"\nkubernetes_version = "1.31"',
    )
    report = run(repo)
    assert len(report.guides) == 3
    assert report.everything is not None and "settings" in report.everything


def test_goldenpath_version_pin_selects_every_guide(repo: Path) -> None:
    (repo / "requirements.txt").write_text("goldenpath==0.1.0\nrequests==2.0\n")
    commit_all(repo)
    edit(repo / "requirements.txt", "requests==2.0", "requests==2.1")
    assert ids(run(repo, "HEAD")) == {}
    edit(repo / "requirements.txt", "goldenpath==0.1.0", "goldenpath==0.2.0")
    assert len(run(repo, "HEAD").guides) == 3


def test_unknown_revision_is_bad_input(repo: Path) -> None:
    with pytest.raises(UserError, match="unknown revision 'nope'"):
        run(repo, "nope")


def test_cli_json(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo)
    git(repo, "rm", "-q", "-r", "golden_paths/beta")
    edit(repo / "golden_paths/gamma/templates/deploy.yaml.j2", "replicas: 1", "replicas: 2")
    assert main(["affected", "--base", "main", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["base"] == "main"
    assert [(g["id"], g["status"], g["check"]) for g in data["guides"]] == [
        ("gamma", "changed", True),
        ("beta", "removed", False),
    ]
    assert main(["affected", "--base", "main"]) == 0
    text = capsys.readouterr().out
    assert "gamma" in text and "removed" in text


def test_check_affected_with_nothing_affected_exits_0(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    edit(repo / "README.md", "Docs", "Our docs")
    assert main(["check", "--affected", "--base", "main"]) == 0
    assert "no guides affected" in capsys.readouterr().out


def test_check_needs_both_affected_and_base(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit) as exc:
        main(["check", "--affected"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_check_affected_runs_only_the_affected_guide(repo: Path, tmp_path: Path) -> None:
    edit(repo / "golden_paths/gamma/templates/gamma.txt.j2", "gamma", "GAMMA")
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "goldenpath.cli",
            "check",
            "--affected",
            "--base",
            "main",
            "--junit",
            str(junit),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cases = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert cases == ["gamma"]
