"""`goldenpath lint` as a real subprocess, against tests/broken_specs and the repo's guides."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

BROKEN = REPO / "tests" / "broken_specs"

# case folder -> (file inside the folder, line, message fragment); one problem per case.
EXPECTED: dict[str, tuple[str, int, str]] = {
    "yaml-bad-indent": ("guide.yaml", 5, "invalid YAML: mapping values are not allowed here"),
    "yaml-unclosed-quote": ("guide.yaml", 14, "while scanning a quoted scalar started on line 14"),
    "unknown-key": ("guide.yaml", 15, "unknown key 'timout' (did you mean 'timeout'?)"),
    "wrong-type": ("guide.yaml", 15, "spec.steps[0].timeout: expected a number, got text"),
    "missing-owner": ("guide.yaml", 4, "metadata.owner: missing required key 'owner'"),
    "invalid-enum": ("guide.yaml", 8, "'buidl' is not one of: discover, build"),
    "template-undefined-var": (
        "templates/app.py.j2",
        3,
        "'servce_name' is undefined (did you mean 'service_name'?)",
    ),
    "command-undefined-var": (
        "guide.yaml",
        18,
        "spec.steps[0].run: undefined template variable: 'greting' is undefined",
    ),
    "bad-param-default": (
        "guide.yaml",
        14,
        "'My_Service' does not match the pattern ^[a-z][a-z0-9-]*$",
    ),
    "manifest-bad-replicas": (
        "templates/deploy.yaml.j2",
        6,
        "at spec.replicas): 'two' is not of type 'integer'",
    ),
    "manifest-unknown-field": (
        "templates/deploy.yaml.j2",
        16,
        "at spec.template.spec.containers[0].imagePullPolcy): unknown field imagePullPolcy",
    ),
    "duplicate-step-id": ("guide.yaml", 15, "duplicate step id 'say-hello'"),
    "next-step-missing-guide": ("guide.yaml", 16, "no guide with id 'no-such-guide'"),
    "troubleshooting-missing-step": (
        "guide.yaml",
        18,
        "no step with id 'say-helo' (did you mean 'say-hello'?)",
    ),
    "two-actions": ("guide.yaml", 12, "one action of run, file, http, variants; found run, http"),
    "no-action": ("guide.yaml", 12, "one action of run, file, http, variants; found none"),
    "missing-template": ("guide.yaml", 14, "template 'app.py.j2' not found"),
    "id-mismatch": ("guide.yaml", 4, "id 'id-mismatched' differs from the folder name"),
    "duplicate-yaml-key": ("guide.yaml", 9, "metadata.title: duplicate key 'title'"),
    "bad-regex": ("guide.yaml", 16, "expect.matches[0]: invalid regular expression"),
    "dollar-prompt": ("guide.yaml", 14, "command starts with a '$ ' prompt"),
    "ready-not-background": ("guide.yaml", 15, "'ready' only applies to background steps"),
    "empty-file": ("guide.yaml", 1, "the spec is empty"),
}

LINE = re.compile(r"^error: (?P<file>.+?):(?P<line>\d+): (?P<rest>.*)$")


def goldenpath(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenpath.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def broken() -> subprocess.CompletedProcess[str]:
    return goldenpath("lint", "--golden-paths", "tests/broken_specs")


def test_every_case_folder_is_in_the_table() -> None:
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(EXPECTED)


def test_broken_specs_exit_2_without_traceback(broken: subprocess.CompletedProcess[str]) -> None:
    assert broken.returncode == 2, broken.stderr
    assert "Traceback" not in broken.stderr
    assert broken.stdout == ""


def test_one_located_error_line_per_problem(broken: subprocess.CompletedProcess[str]) -> None:
    lines = broken.stderr.splitlines()
    assert lines[-1] == f"{len(EXPECTED)} problems found"
    errors = lines[:-1]
    assert len(errors) == len(EXPECTED)
    for line in errors:
        assert LINE.match(line), line


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_reports_its_problem_at_its_line(broken: subprocess.CompletedProcess[str], case: str) -> None:
    relative, line, fragment = EXPECTED[case]
    location = f"{BROKEN / case / relative}:{line}: "
    found = [x for x in broken.stderr.splitlines() if x.startswith(f"error: {location}")]
    assert found, f"no error at {location}\n{broken.stderr}"
    assert any(fragment in x for x in found), found
    mentions = [x for x in broken.stderr.splitlines() if f"/broken_specs/{case}/" in x]
    assert len(mentions) == 1, mentions


def test_repo_golden_paths_lint_clean() -> None:
    result = goldenpath("lint")
    assert result.returncode == 0, result.stderr
    assert "golden path(s) OK" in result.stdout


def test_missing_golden_paths_dir_is_bad_input(tmp_path: Path) -> None:
    result = goldenpath("lint", "--golden-paths", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "golden-paths directory not found" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [(), ("lint", "--no-such-option"), ("frobnicate",)])
def test_usage_error_exits_2(args: tuple[str, ...]) -> None:
    result = goldenpath(*args)
    assert result.returncode == 2
    assert "usage: goldenpath" in result.stderr
    assert "Traceback" not in result.stderr


def test_three_independent_mistakes_are_three_lines_of_one_lint(tmp_path: Path) -> None:
    spec = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: three
  title: Three mistakes
  summary: One of each kind.
  owner: "@acme/platform"
  stage: build
spec:
  type: how-to
  steps:
    - id: make
      title: Make the file
      file: {path: app.txt, template: app.txt.j2}
    - id: show
      title: Show it
      run: cat app.txt
      timout: 10
    - id: show
      title: Show it again
      run: cat app.txt
"""
    (tmp_path / "gp" / "three" / "templates").mkdir(parents=True)
    (tmp_path / "gp" / "three" / "guide.yaml").write_text(spec)
    (tmp_path / "gp" / "three" / "templates" / "app.txt.j2").write_text("hello {{ nmae }}\n")
    out = goldenpath("lint", "--golden-paths", "gp", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, out.stderr
    # schema, rule and template problems together, sorted by file and line
    assert "guide.yaml:18: spec.steps[1].timout: unknown key 'timout'" in errors[0]
    assert "guide.yaml:19: spec.steps[2].id: duplicate step id 'show'" in errors[1]
    assert "templates/app.txt.j2:1: undefined template variable: 'nmae' is undefined" in errors[2]
    assert "3 problems found" in out.stderr
