"""Lint rules: each fires on a bad example, stays quiet on the shipped guides, and is configurable."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import UserError
from goldenpath.lint import rules
from goldenpath.lint.report import run_rules
from goldenpath.lint.settings import rule_settings
from goldenpath.site.reference import rules_markdown
from goldenpath.spec.loader import collect_guides
from goldenpath.spec.model import Guide, NextStep
from helpers import REPO, build_file_tree, write_guide

GOOD_STEP = {"id": "say", "title": "Say hello", "run": "echo hello", "expect": {"output": "hello\n"}}


def load(
    tmp_path: Path,
    steps: list[dict[str, Any]] | None = None,
    *,
    templates: dict[str, str] | None = None,
    review: bool = True,
    **options: Any,
) -> Guide:
    spec_file = write_guide(tmp_path / "gp", "sample", steps or [GOOD_STEP], templates, **options)
    if review:
        text = spec_file.read_text()
        spec_file.write_text(
            text.replace("  tags: []\n", "  tags: []\n  review: {by: alice, date: 2026-11-01}\n")
        )
    guides, problems = collect_guides(tmp_path / "gp")
    assert not problems, problems
    return guides[0]


def fired(guide: Guide, docs: Path | None = None) -> list[str]:
    return [f.rule for f in run_rules([guide], docs_dir=docs)]


def test_a_good_guide_is_quiet(tmp_path: Path) -> None:
    assert fired(load(tmp_path)) == []


def test_gp101_getting_started_without_prerequisites(tmp_path: Path) -> None:
    guide = load(tmp_path, guide_type="getting-started")
    assert "GP101" in fired(guide)


def test_gp102_getting_started_without_estimated_time(tmp_path: Path) -> None:
    guide = load(
        tmp_path, guide_type="getting-started", prerequisites=[{"text": "bash", "command": "bash --version"}]
    )
    assert fired(guide) == ["GP102"]


@pytest.mark.parametrize(
    "expect",
    [
        {"output": "x"},
        {"exitCode": 0},
        {"exitCode": 1},
        {"nothing": True},
        {"files": ["a"]},
        {"contains": ["x"]},
    ],
)
def test_gp103_explicit_expectations_count(tmp_path: Path, expect: dict[str, Any]) -> None:
    step = {"id": "a", "title": "A", "run": "true", "expect": expect}
    assert fired(load(tmp_path, [step])) == []


def test_gp103_run_step_without_expectation(tmp_path: Path) -> None:
    steps = [GOOD_STEP, {"id": "bare", "title": "Run it", "run": "true"}]
    guide = load(tmp_path, steps)
    findings = run_rules([guide])
    assert [f.rule for f in findings] == ["GP103"]
    assert findings[0].line == guide.line_of("spec.steps[1]")
    assert findings[0].path == "spec.steps[1]"
    assert "run step 'bare' has no expectation" in str(findings[0])


def test_gp103_background_step_with_ready_counts(tmp_path: Path) -> None:
    step = {"id": "srv", "title": "Serve", "run": "sleep 60", "background": True, "ready": {"log": "x"}}
    assert fired(load(tmp_path, [GOOD_STEP, step])) == []


def test_gp104_prompt_in_a_variant_and_a_second_line(tmp_path: Path) -> None:
    steps = [
        {
            "id": "v",
            "title": "Variants",
            "variants": [{"label": "sh", "run": "$ echo hi"}],
            "expect": {"nothing": True},
        },
        {"id": "m", "title": "Multi", "run": "echo a\n$ echo b", "expect": {"nothing": True}},
    ]
    guide = load(tmp_path, steps, prerequisites=[{"text": "bash", "command": "$ bash --version"}])
    assert fired(guide) == ["GP104", "GP104", "GP104"]


@pytest.mark.parametrize(
    "command",
    [
        "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE",
        "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345' https://api.example.com",
        "export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "mysql --password=s3cr3tPassw0rd db",
        "echo 'api_key: 9f8e7d6c5b4a39281706'",
    ],
)
def test_gp105_secret_in_a_command(tmp_path: Path, command: str) -> None:
    step = {"id": "s", "title": "Secret", "run": command, "expect": {"nothing": True}}
    assert fired(load(tmp_path, [step])) == ["GP105"]


@pytest.mark.parametrize(
    "command",
    [
        "mysql --password={{ name }} db",
        "export TOKEN=$GOLDENPATH_SECRET_TOKEN",
        "curl -H 'Authorization: Bearer <token>' https://api.example.com",
        "kubectl create secret generic db --from-literal=password=changeme",
        "echo token: ***",
    ],
)
def test_gp105_variables_and_placeholders_are_fine(tmp_path: Path, command: str) -> None:
    step = {"id": "s", "title": "Secret", "run": command, "expect": {"nothing": True}}
    assert fired(load(tmp_path, [step])) == []


def test_gp105_secret_in_a_template_points_at_its_line(tmp_path: Path) -> None:
    steps = [{"id": "f", "title": "Write", "file": {"path": "app.env", "template": "app.env.j2"}}]
    guide = load(tmp_path, steps, templates={"app.env.j2": "NAME=x\nDB_PASSWORD=hunter2hunter2\n"})
    (finding,) = run_rules([guide])
    assert finding.rule == "GP105"
    assert finding.file == guide.templates_dir / "app.env.j2"
    assert finding.line == 2


def test_gp106_next_step_links(tmp_path: Path) -> None:
    docs = build_file_tree(tmp_path / "docs", {"platform-teams/intro.md": "# Intro\n"})
    guide = load(tmp_path)
    spec_file = guide.source
    spec_file.write_text(
        spec_file.read_text() + "  nextSteps:\n"
        "    - {url: 'https://docs.example.com/next'}\n"
        "    - {url: '../platform-teams/intro.md'}\n"
        "    - {url: '../platform-teams/missing.md'}\n"
        "    - {url: 'htps//nowhere'}\n"
        "    - {url: 'https://intranet'}\n"
        "    - {url: 'ftp://files.example.com/x'}\n"
    )
    guides, _ = collect_guides(spec_file.parent.parent)
    findings = run_rules(guides, docs_dir=docs)
    assert [(f.rule, f.path) for f in findings] == [
        ("GP106", "spec.nextSteps[2].url"),
        ("GP106", "spec.nextSteps[3].url"),
        ("GP106", "spec.nextSteps[4].url"),
        ("GP106", "spec.nextSteps[5].url"),
    ]


def test_gp106_guide_link_to_a_missing_guide(tmp_path: Path) -> None:
    # The loader reports missing guide ids too; the rule covers library use without the loader.
    guide = load(tmp_path)
    linked = dataclasses.replace(
        guide, spec=dataclasses.replace(guide.spec, next_steps=(NextStep(guide="sampel"),))
    )
    (finding,) = run_rules([linked])
    assert finding.rule == "GP106"
    assert "did you mean 'sample'?" in finding.message


def test_gp107_step_without_title(tmp_path: Path) -> None:
    steps = [{**GOOD_STEP, "title": "  "}]
    assert fired(load(tmp_path, steps)) == ["GP107"]


def test_gp108_hidden_steps_are_a_minority(tmp_path: Path) -> None:
    hidden = {"id": "h", "title": "Setup", "run": "true", "hidden": True, "expect": {"nothing": True}}
    assert fired(load(tmp_path, [hidden, GOOD_STEP])) == ["GP108"]
    second = tmp_path / "second"
    assert fired(load(second, [hidden, GOOD_STEP, {**GOOD_STEP, "id": "again"}])) == []


def test_gp109_review_record(tmp_path: Path) -> None:
    assert fired(load(tmp_path, review=False)) == ["GP109"]


def test_every_rule_has_a_test_above() -> None:
    # ... or in a test module of its own, such as test_dead_parts.py
    source = "".join(p.read_text() for p in sorted(Path(__file__).parent.glob("test_*.py")))
    for rule in rules.RULES:
        assert f"test_{rule.id.lower()}_" in source


def test_shipped_guides_pass_every_rule() -> None:
    guides, problems = collect_guides(REPO / "golden_paths")
    assert not problems
    assert run_rules(guides, docs_dir=REPO / "docs") == []


def test_configuration_disables_and_changes_severity() -> None:
    configured = rule_settings({"disable": ["GP108"], "severity": {"GP109": "error", "GP101": "off"}})
    assert configured.severities["GP108"] == "off"
    assert configured.severities["GP109"] == "error"
    assert configured.severities["GP101"] == "off"
    assert configured.severities["GP103"] == "warning"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"disable": ["GP999"]}, "unknown lint rule 'GP999'"),
        ({"severity": {"GP10": "error"}}, "did you mean"),
        ({"severity": {"GP101": "fatal"}}, "'fatal' is not a severity"),
        ({"disabled": []}, "unknown key"),
    ],
)
def test_bad_configuration_is_bad_input(table: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        rule_settings(table)


def goldenpath(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenpath.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lint_cli_reports_findings_with_file_line_and_strict(tmp_path: Path) -> None:
    steps = [GOOD_STEP, {"id": "bare", "title": "Run it", "run": "true"}]
    load(tmp_path, steps)
    (tmp_path / "pyproject.toml").write_text('[tool.goldenpath]\ngolden_paths = "gp"\n')
    result = goldenpath("lint", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec_file = tmp_path / "gp" / "sample" / "guide.yaml"
    line = next(i for i, text in enumerate(spec_file.read_text().splitlines(), 1) if "id: bare" in text)
    assert (
        f"warning: {spec_file}:{line}: spec.steps[1]: GP103 run step 'bare' has no expectation"
        in result.stderr
    )
    assert "1 warning(s); --strict fails on them" in result.stdout
    strict = goldenpath("lint", "--strict", cwd=tmp_path)
    assert strict.returncode == 2
    assert "1 warning(s) found (--strict fails on warnings)" in strict.stderr
    (tmp_path / "pyproject.toml").write_text(
        '[tool.goldenpath]\ngolden_paths = "gp"\n[tool.goldenpath.lint]\ndisable = ["GP103"]\n'
    )
    assert goldenpath("lint", "--strict", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text(
        '[tool.goldenpath]\ngolden_paths = "gp"\nlint = {severity = {GP103 = "error"}}\n'
    )
    as_error = goldenpath("lint", cwd=tmp_path)
    assert as_error.returncode == 2
    assert "error: " in as_error.stderr and "GP103" in as_error.stderr


def test_lint_cli_strict_on_the_shipped_guides() -> None:
    result = goldenpath("lint", "--strict", cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_rules_page_documents_every_rule() -> None:
    text = rules_markdown()
    for rule in rules.RULES:
        assert f"## {rule.id} {rule.name} {{ #{rule.id.lower()} }}" in text
        assert rule.fix[1:] in text
    assert "[tool.goldenpath.lint]" in text


@pytest.mark.slow
def test_site_publishes_the_rules_page(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    page = (site / "reference" / "lint-rules" / "index.html").read_text()
    assert "GP105" in page and "no-hard-coded-secret" in page
