"""`goldenpath review` on a real git repository in tmp_path: rendered diffs, results, limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from git_repo import edit, git, make_repo
from goldenpath import config
from goldenpath.cli.main import main
from goldenpath.review.comment import MARKER, load_results, make_review

JUNIT = """<?xml version='1.0' encoding='utf-8'?>
<testsuite name="goldenpath" tests="1" failures="1" errors="0" skipped="0" time="1.0">
  <testcase classname="golden_paths/gamma/guide.yaml" name="gamma" time="1.0">
    <properties><property name="guide" value="gamma" /><property name="outcome" value="failed" />
    </properties>
    <failure message="step 2 &quot;Show it&quot;: output does not contain 'gamma'" type="failed">x</failure>
  </testcase>
</testsuite>
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "docs")


def review(repo: Path, **options: object) -> str:
    made = make_review("main", config.load_settings(repo), **options)  # type: ignore[arg-type]
    return made.comment


def test_template_change_shows_rendered_page_diff_and_manifest_diff(repo: Path) -> None:
    edit(repo / "golden_paths/gamma/templates/deploy.yaml.j2", "replicas: 1", "replicas: 3")
    edit(repo / "golden_paths/gamma/templates/gamma.txt.j2", "gamma {{ name }}", "GAMMA {{ name }}!")
    text = review(repo, preview_url="https://preview.example.com/pr-7")
    assert text.startswith(MARKER)
    assert "[Guide gamma](https://preview.example.com/pr-7/how-to/gamma/)" in text
    assert "Rendered page diff (`how-to/gamma.md`)" in text
    # The page shows the rendered file, so the page diff has the reader's view of the change.
    assert "--- a/how-to/gamma.md" in text and "+++ b/how-to/gamma.md" in text
    assert "\n-gamma gamma\n+GAMMA gamma!\n" in text
    assert "Manifest diff (`deploy.yaml`)" in text
    assert "\n-  replicas: 1\n+  replicas: 3\n" in text
    assert "alpha" not in text and "beta" not in text
    assert "**Owners to ask:** @acme/gamma-team (gamma)" in text
    assert "not checked" in text


def test_check_results_and_lint_findings(repo: Path, tmp_path: Path) -> None:
    edit(repo / "golden_paths/gamma/guide.yaml", "  review:\n    by: alice\n    date: 2026-11-01\n", "")
    results = tmp_path / "junit.xml"
    results.write_text(JUNIT)
    text = review(repo, results_file=results)
    assert "| :x: **failed** |" in text
    assert "- `gamma`: :x: **failed**: step 2 \"Show it\": output does not contain 'gamma'" in text
    assert "GP109 no review record" in text
    assert "`golden_paths/gamma/guide.yaml:4`" in text


def test_json_results(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps(
            {
                "guides": [
                    {"guide": "a", "outcome": "passed"},
                    {"id": "b", "status": "error", "message": "no cluster"},
                ]
            }
        )
    )
    found = load_results(path)
    assert found["a"].outcome == "passed"
    assert (found["b"].outcome, found["b"].message) == ("error", "no cluster")


def test_removed_and_renamed_guides(repo: Path) -> None:
    git(repo, "rm", "-q", "-r", "golden_paths/beta")
    git(repo, "mv", "golden_paths/gamma", "golden_paths/delta")
    edit(repo / "golden_paths/delta/guide.yaml", "id: gamma", "id: delta")
    text = review(repo)
    assert "| removed |" in text
    assert "renamed from `gamma`" in text
    assert "--- a/how-to/beta.md\n+++ /dev/null" in text
    assert "--- a/how-to/gamma.md\n+++ b/how-to/delta.md" in text
    # The shared partial is a symlink out of the guide's folder: the old side renders it too.
    assert "-made by beta" not in text and "--- made by beta --" in text


def test_shared_partial_change_shows_both_guides(repo: Path) -> None:
    edit(repo / "golden_paths/_shared/partials/footer.j2", "made by", "written by")
    text = review(repo)
    assert "-- made by alpha --" in text and "-- written by alpha --" in text
    assert "-- written by beta --" in text
    assert "gamma" not in text


def test_nothing_affected(repo: Path) -> None:
    edit(repo / "README.md", "Docs", "Our docs")
    text = review(repo)
    assert "affects no guide" in text


def test_fits_the_comment_limit_with_a_pointer(repo: Path) -> None:
    big = "".join(f"line {i} {{{{ name }}}}\n" for i in range(5000))
    (repo / "golden_paths/gamma/templates/gamma.txt.j2").write_text(big)
    settings = config.load_settings(repo)
    made = make_review("main", settings, details_url="https://ci.example.com/run/1", limit=4000)
    assert made.truncated
    assert len(made.comment) <= 4000
    assert made.comment.startswith(MARKER)
    assert "[the full review](https://ci.example.com/run/1)" in made.comment
    assert "more line(s)" in made.comment
    assert len(made.markdown) > 60000
    full = make_review("main", settings)
    assert full.truncated and len(full.comment) <= 65536


def test_cli_writes_comment_and_full_review(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    edit(repo / "golden_paths/alpha/templates/app.txt.j2", "hello", "hi")
    assert (
        main(["review", "--base", "main", "--output", "out/comment.md", "--full-output", "out/full.md"]) == 0
    )
    comment = (repo / "out/comment.md").read_text()
    assert comment == (repo / "out/full.md").read_text()
    assert "+alpha says hi" in comment
