"""Lint rules that see dead parts of a guide (GP110..GP113), on changed copies of the shipped guides.

Each bad example is a copy of ``golden_paths/`` (links between the guides' templates kept) with
one guide changed, checked through the real ``goldenpath lint``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from goldenpath.lint import dead_parts
from goldenpath.lint.report import run_rules
from goldenpath.lint.rules import RULES_BY_ID
from goldenpath.spec.loader import collect_guides
from goldenpath.spec.model import Guide
from helpers import REPO

DEAD_PARTS = ("GP110", "GP111", "GP112", "GP113")


def copy_guides(tmp_path: Path) -> Path:
    """A copy of the shipped guides and a pyproject.toml that points at it; the copy's folder."""
    target = tmp_path / "golden_paths"
    shutil.copytree(REPO / "golden_paths", target, symlinks=True)
    (tmp_path / "pyproject.toml").write_text('[tool.goldenpath]\ngolden_paths = "golden_paths"\n')
    return target


def edit(spec_file: Path, old: str, new: str) -> None:
    text = spec_file.read_text()
    assert text.count(old) == 1, old
    spec_file.write_text(text.replace(old, new))


def line_of(spec_file: Path, text: str) -> int:
    (line,) = [i for i, line in enumerate(spec_file.read_text().splitlines(), 1) if text in line]
    return line


def lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenpath.cli", "lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dead_findings(guides: list[Guide]) -> list[str]:
    return [str(f) for f in run_rules(guides) if f.rule in DEAD_PARTS]


def load(folder: Path, guide_id: str | None = None) -> list[Guide]:
    guides, problems = collect_guides(folder)
    assert not problems, problems
    return [g for g in guides if guide_id is None or g.id == guide_id]


SETUP_TESTS = """\
    - id: setup-tests
      title: Add its tests
      hidden: true
      file: {path: "{{ service_name }}/test_app.py", template: test_app.py.j2}
"""

SETUP_SERVICE = """\
    - id: setup-service
      title: Create the service from the platform template
      hidden: true
      file: {path: "{{ service_name }}/app.py", template: app.py.j2}
"""


def test_gp110_template_no_step_uses(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    edit(folder / "add-an-endpoint" / "guide.yaml", SETUP_TESTS, "")
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    template = folder / "add-an-endpoint" / "templates" / "test_app.py.j2"
    assert (
        f"warning: {template}: GP110 template 'test_app.py.j2' is used by no step "
        "(fix: delete it, or add the `file` step that creates it)"
    ) in result.stderr.splitlines()
    assert result.stderr.count("GP110") == 1
    assert lint(tmp_path, "--strict").returncode == 2


def test_gp110_template_used_only_through_extends_is_used(tmp_path: Path) -> None:
    # app-with-version.py.j2 extends app.py.j2: no step has to name app.py.j2 itself.
    folder = copy_guides(tmp_path)
    edit(folder / "add-an-endpoint" / "guide.yaml", SETUP_SERVICE, "")
    assert dead_findings(load(folder, "add-an-endpoint")) == []


@pytest.mark.parametrize(
    "tag",
    [
        '{% include "partials/header.j2" %}',
        '{% import "partials/header.j2" as header %}',
        '{% from "partials/header.j2" import banner %}',
    ],
)
def test_gp110_template_used_only_through_include_is_used(tmp_path: Path, tag: str) -> None:
    folder = copy_guides(tmp_path)
    templates = folder / "add-an-endpoint" / "templates"
    (templates / "partials").mkdir()
    # included by a used template, and it includes a third one: followed transitively
    (templates / "partials" / "header.j2").write_text(
        '{% macro banner() %}# test{% endmacro %}{% include "footer.j2" %}\n'
    )
    (templates / "footer.j2").write_text("# end\n")
    (templates / ".notes.j2").write_text("hidden files are not templates\n")
    test_version = templates / "test_version.py.j2"
    test_version.write_text(f"{tag}\n" + test_version.read_text())
    assert dead_findings(load(folder, "add-an-endpoint")) == []
    (templates / "partials" / "header.j2").write_text("# test\n")  # footer.j2 no longer included
    assert dead_findings(load(folder, "add-an-endpoint")) == [
        f"{templates / 'footer.j2'}: GP110 template 'footer.j2' is used by no step "
        "(fix: delete it, or add the `file` step that creates it)"
    ]


def test_gp110_computed_template_name_uses_every_template(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    templates = folder / "add-an-endpoint" / "templates"
    (templates / "extra.j2").write_text("extra\n")
    assert [f.rule for f in run_rules(load(folder, "add-an-endpoint")) if f.rule in DEAD_PARTS] == ["GP110"]
    test_version = templates / "test_version.py.j2"
    test_version.write_text('{% include service_name ~ ".j2" ignore missing %}\n' + test_version.read_text())
    assert dead_findings(load(folder, "add-an-endpoint")) == []


def test_gp111_parameter_nothing_uses(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    spec_file = folder / "scale-a-service" / "guide.yaml"
    edit(
        spec_file,
        "  parameters:\n",
        "  parameters:\n    - name: region\n      description: Unused.\n      default: eu-west-1\n",
    )
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    line = line_of(spec_file, "- name: region")
    assert (
        f"warning: {spec_file}:{line}: spec.parameters[0]: GP111 parameter 'region' is used by no "
        f"template, command or text (fix: {RULES_BY_ID['GP111'].fix})"
    ) in result.stderr.splitlines()
    assert result.stderr.count("GP111") == 1


def test_gp111_any_spec_string_or_template_counts(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    spec_file = folder / "scale-a-service" / "guide.yaml"
    edit(
        spec_file,
        "  parameters:\n",
        "  parameters:\n"
        "    - {name: in_fix, description: '{{ in_fix }} in its own text is no use', default: x}\n"
        "    - {name: in_template, description: x, default: x}\n"
        "    - {name: in_broken_template, description: x, default: x}\n",
    )
    edit(
        spec_file, "  troubleshooting:\n", "  troubleshooting:\n    - {problem: p, fix: 'see {{ in_fix }}'}\n"
    )
    templates = folder / "scale-a-service" / "templates"
    (templates / "notes.j2").write_text("{% for x in in_template %}{{ x }}{% endfor %}\n")
    (templates / "broken.j2").write_text("{% if in_broken_template %}unclosed\n")  # regex fallback
    findings = [f for f in run_rules(load(folder, "scale-a-service")) if f.rule == "GP111"]
    assert findings == []
    edit(spec_file, "'see {{ in_fix }}'", "'see in_fix'")
    (finding,) = [f for f in run_rules(load(folder, "scale-a-service")) if f.rule == "GP111"]
    assert finding.path == "spec.parameters[0]"
    assert finding.message == "parameter 'in_fix' is used by no template, command or text"


def test_gp112_troubleshooting_on_a_hidden_step(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    spec_file = folder / "add-an-endpoint" / "guide.yaml"
    edit(
        spec_file,
        "  troubleshooting:\n",
        "  troubleshooting:\n"
        "    - step: setup-service\n"
        "      problem: The service folder is missing\n"
        "      fix: Do the *Hello world* guide first.\n",
    )
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    line = line_of(spec_file, "- step: setup-service")
    assert (
        f"warning: {spec_file}:{line}: spec.troubleshooting[0].step: GP112 troubleshooting entry is "
        f"attached to hidden step 'setup-service' (fix: {RULES_BY_ID['GP112'].fix})"
    ) in result.stderr.splitlines()
    assert result.stderr.count("GP112") == 1


def test_gp113_next_step_to_the_guide_itself(tmp_path: Path) -> None:
    folder = copy_guides(tmp_path)
    spec_file = folder / "add-an-endpoint" / "guide.yaml"
    edit(spec_file, "    - guide: roll-back-a-deployment\n", "    - guide: add-an-endpoint\n")
    result = lint(tmp_path)
    assert result.returncode == 2
    line = line_of(spec_file, "- guide: add-an-endpoint")
    assert (
        f"error: {spec_file}:{line}: spec.nextSteps[1].guide: GP113 next step links the guide to "
        f"itself ('add-an-endpoint') (fix: {RULES_BY_ID['GP113'].fix})"
    ) in result.stderr.splitlines()
    assert result.stderr.count("GP113") == 1


def test_dead_part_rules_are_in_the_table() -> None:
    for rule_id, name, *_ in dead_parts.DEAD_PART_RULES:
        assert RULES_BY_ID[rule_id].name == name
    assert [RULES_BY_ID[r].severity for r in DEAD_PARTS] == ["warning", "warning", "warning", "error"]


def test_shipped_guides_have_no_dead_parts() -> None:
    guides = load(REPO / "golden_paths")
    assert len(guides) >= 5
    assert dead_findings(guides) == []
