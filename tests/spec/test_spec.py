"""The spec loader: YAML text -> frozen Guide, or every problem with its line, path and hint."""

from __future__ import annotations

import dataclasses
import datetime
import textwrap
from pathlib import Path

import pytest

from goldenpath.errors import Problem, UserError
from goldenpath.spec.loader import collect_guides, load_guides, parse_guide
from goldenpath.spec.model import Guide, Step
from helpers import build_file_tree

VALID = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: demo
  title: Demo guide
  summary: Shows the loader at work.
  owner: "@acme/platform"
  stage: build
  tags: [python]
  review: {by: alice, date: 2026-11-20}
spec:
  type: how-to
  parameters:
    - name: service_name
      description: Name of the service.
      default: shop
      pattern: "^[a-z]+$"
  steps:
    - id: say-hello
      title: Say hello
      run: echo hello {{ service_name }}
      timeout: 60
    - id: check
      title: Check
      run: "true"
      expect: {contains: [ok]}
  cleanup:
    - id: tidy
      title: Tidy up
      run: rm -rf tmp
"""


def parse(
    text: str, folder: str = "demo", tmp_path: Path | None = None
) -> tuple[Guide | None, list[Problem]]:
    root = tmp_path or Path("/nonexistent")
    return parse_guide(root / folder / "guide.yaml", textwrap.dedent(text))


def only_problem(text: str) -> Problem:
    guide, problems = parse(text)
    assert guide is None
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# A valid spec.


def test_valid_spec_becomes_frozen_dataclasses() -> None:
    guide, problems = parse(VALID)
    assert problems == []
    assert guide is not None
    assert guide.id == "demo"
    assert guide.metadata.tags == ("python",)
    assert guide.metadata.review is not None
    assert guide.metadata.review.date == datetime.date(2026, 11, 20)
    assert isinstance(guide.spec.steps, tuple)
    assert guide.spec.steps[0].timeout == 60.0
    assert isinstance(guide.spec.steps[0].timeout, float)
    assert guide.spec.steps[1].expect.contains == ("ok",)
    assert guide.spec.parameters[0].type == "string"
    with pytest.raises(dataclasses.FrozenInstanceError):
        guide.metadata.title = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        guide.spec.steps[0].run = "rm -rf /"  # type: ignore[misc]


def test_steps_know_their_line() -> None:
    guide, _ = parse(VALID)
    assert guide is not None
    assert [s.line for s in guide.all_steps()] == [19, 23, 28]
    assert guide.step("check") == guide.spec.steps[1]
    assert guide.step("nope") is None


def test_line_of_falls_back_to_the_closest_parent() -> None:
    guide, _ = parse(VALID)
    assert guide is not None
    assert guide.line_of("metadata.stage") == 8
    assert guide.line_of("spec.steps[0].run") == 21
    assert guide.line_of("spec.steps[1].expect.contains[0]") == 26
    # Unset fields point at their parent, unknown roots at the first line.
    assert guide.line_of("spec.steps[0].expect.output") == 19
    assert guide.line_of("spec.steps[0].background") == 19
    assert guide.line_of("nothing.here") == 1


def test_source_is_the_spec_file(tmp_path: Path) -> None:
    guide, _ = parse(VALID, tmp_path=tmp_path)
    assert guide is not None
    assert guide.source == tmp_path / "demo" / "guide.yaml"
    assert guide.templates_dir == tmp_path / "demo" / "templates"


def test_yaml_11_booleans_stay_strings_as_keys() -> None:
    text = VALID.replace(
        "      expect: {contains: [ok]}\n",
        "      expect:\n        json: {on: 1, yes: true, off: null}\n",
    )
    guide, problems = parse(text)
    assert problems == []
    assert guide is not None
    assert dict(guide.spec.steps[1].expect.json) == {"on": 1, "yes": True, "off": None}


def test_yaml_11_boolean_key_in_a_step_is_an_unknown_key_named_as_written() -> None:
    problem = only_problem(VALID.replace("      timeout: 60\n", "      on: push\n"))
    assert problem.path == "spec.steps[0].on"
    assert problem.message == "unknown key 'on'"


def test_yaml_11_boolean_value_where_text_is_expected() -> None:
    problem = only_problem(VALID.replace("tags: [python]", "tags: [python, no]"))
    assert (problem.line, problem.path) == (9, "metadata.tags[1]")
    assert problem.message == "expected text, got a boolean (false)"
    assert problem.hint == "put it in quotes"


# One problem of each class.

CASES = {
    "unknown key with a near miss": (
        VALID.replace("      timeout: 60\n", "      timout: 60\n"),
        22,
        "spec.steps[0].timout",
        "unknown key 'timout'",
        "did you mean 'timeout'?",
    ),
    "unknown key without a near miss": (
        VALID.replace("      timeout: 60\n", "      zzz: 60\n"),
        22,
        "spec.steps[0].zzz",
        "unknown key 'zzz'",
        "allowed: id, title,",
    ),
    "wrong scalar type": (
        VALID.replace("timeout: 60", "timeout: fast"),
        22,
        "spec.steps[0].timeout",
        "expected a number, got text",
        "write a number",
    ),
    "list where a value is expected": (
        VALID.replace("title: Demo guide", "title: [Demo]"),
        5,
        "metadata.title",
        "expected a single value, got a list",
        "",
    ),
    "value where a list is expected": (
        VALID.replace("tags: [python]", "tags: python"),
        9,
        "metadata.tags",
        "expected a list, got 'python'",
        "write it as a YAML list",
    ),
    "value where a mapping is expected": (
        VALID.replace("review: {by: alice, date: 2026-11-20}", "review: alice"),
        10,
        "metadata.review",
        "expected a mapping for metadata.review, got 'alice'",
        "",
    ),
    "text where a date is expected": (
        VALID.replace("date: 2026-11-20", 'date: "last week"'),
        10,
        "metadata.review.date",
        "expected a date (YYYY-MM-DD), got text",
        "write a date",
    ),
    "missing required key": (
        VALID.replace('  owner: "@acme/platform"\n', ""),
        4,
        "metadata.owner",
        "missing required key 'owner'",
        "add 'owner:' to metadata",
    ),
    "invalid enum with a near miss": (
        VALID.replace("stage: build", "stage: buidl"),
        8,
        "metadata.stage",
        "'buidl' is not one of: discover, build, test, integrate, verify",
        "did you mean 'build'?",
    ),
    "wrong apiVersion": (
        VALID.replace("goldenpath.dev/v1", "goldenpath.dev/v2"),
        1,
        "apiVersion",
        "'goldenpath.dev/v2' is not one of: goldenpath.dev/v1",
        "did you mean 'goldenpath.dev/v1'?",
    ),
    "id pattern": (
        VALID.replace("  id: demo", "  id: Demo_Guide"),
        4,
        "metadata.id",
        "'Demo_Guide' does not match",
        "lowercase letters, digits and dashes",
    ),
    "no steps": (
        VALID.split("  steps:")[0] + "  steps: []\n",
        18,
        "spec.steps",
        "needs at least 1 item(s)",
        "add one",
    ),
    "duplicate YAML key": (
        VALID.replace("  stage: build\n", "  stage: build\n  title: Again\n"),
        9,
        "metadata.title",
        "duplicate key 'title'",
        "keep only one of them",
    ),
    "id differs from folder": (
        VALID.replace("  id: demo", "  id: other"),
        4,
        "metadata.id",
        "id 'other' differs from the folder name 'demo'",
        "set id: demo",
    ),
    "bad parameter default": (
        VALID.replace("default: shop", "default: Shop1"),
        16,
        "spec.parameters[0].default",
        "'Shop1' does not match the pattern ^[a-z]+$",
        "Name of the service.",
    ),
    "parameter without default": (
        VALID.replace("      default: shop\n", ""),
        14,
        "spec.parameters[0].default",
        "parameter 'service_name' has no default",
        "add a default",
    ),
    "invalid parameter pattern": (
        VALID.replace('pattern: "^[a-z]+$"', 'pattern: "^[a-z+$"'),
        17,
        "spec.parameters[0].pattern",
        "invalid pattern for 'service_name'",
        "fix the regular expression",
    ),
    "duplicate parameter": (
        VALID.replace(
            "  steps:\n",
            "    - {name: service_name, description: Again, default: x}\n  steps:\n",
            1,
        ),
        18,
        "spec.parameters[1].name",
        "duplicate parameter 'service_name'",
        "unique name",
    ),
    "duplicate step id": (
        VALID.replace("id: check", "id: say-hello"),
        23,
        "spec.steps[1].id",
        "duplicate step id 'say-hello' (also spec.steps[0])",
        "unique id",
    ),
    "cleanup reuses a step id": (
        VALID.replace("id: tidy", "id: check"),
        28,
        "spec.cleanup[0].id",
        "duplicate step id 'check' (also spec.steps[1])",
        "unique id",
    ),
    "two actions": (
        VALID.replace('      run: "true"\n', '      run: "true"\n      http: {url: "http://x/"}\n'),
        23,
        "spec.steps[1]",
        "found run, http",
        "split it into several steps",
    ),
    "no action": (
        VALID.replace('      run: "true"\n', ""),
        23,
        "spec.steps[1]",
        "found none",
        "add 'run:' with a command",
    ),
    "background without run": (
        VALID.replace('      run: "true"\n', '      http: {url: "http://x/"}\n      background: true\n'),
        26,
        "spec.steps[1].background",
        "only a 'run' step can run in the background",
        "",
    ),
    "ready without background": (
        VALID.replace("      timeout: 60\n", "      ready: {port: 8080}\n"),
        22,
        "spec.steps[0].ready",
        "'ready' only applies to background steps",
        "add 'background: true'",
    ),
    "ready with two conditions": (
        VALID.replace("      timeout: 60\n", "      background: true\n      ready: {port: 8080, log: up}\n"),
        23,
        "spec.steps[0].ready",
        "set exactly one of port, http, log",
        "keep one condition",
    ),
    "invalid regex": (
        VALID.replace("expect: {contains: [ok]}", 'expect: {matches: ["a(b"]}'),
        26,
        "spec.steps[1].expect.matches[0]",
        "invalid regular expression: missing )",
        "escape special characters",
    ),
    "dollar prompt": (
        VALID.replace("run: echo hello", "run: $ echo hello"),
        21,
        "spec.steps[0].run",
        "command starts with a '$ ' prompt",
        "remove the prompt",
    ),
    "non-positive timeout": (
        VALID.replace("timeout: 60", "timeout: 0"),
        22,
        "spec.steps[0].timeout",
        "timeout must be positive",
        "use seconds",
    ),
    "troubleshooting for a missing step": (
        VALID + "  troubleshooting:\n    - {problem: Boom, fix: Retry, step: chek}\n",
        32,
        "spec.troubleshooting[0].step",
        "no step with id 'chek'",
        "did you mean 'check'?",
    ),
    "next step with both guide and url": (
        VALID + "  nextSteps:\n    - {guide: demo, url: 'https://example.com'}\n",
        32,
        "spec.nextSteps[0]",
        "set exactly one of 'guide' or 'url'",
        "",
    ),
    "missing template file": (
        VALID.replace('      run: "true"\n', "      file: {path: app.py, template: app.py.j2}\n"),
        25,
        "spec.steps[1].file.template",
        "template 'app.py.j2' not found",
        "create it",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_problem_class(case: str) -> None:
    text, line, path, message, hint = CASES[case]
    guide, problems = parse(text)
    assert guide is None or problems
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.file == Path("/nonexistent/demo/guide.yaml")
    assert (problem.line, problem.path) == (line, path), str(problem)
    assert message in problem.message
    assert hint in problem.hint


def test_problem_reads_as_file_line_path_message_hint() -> None:
    problem = only_problem(VALID.replace("stage: build", "stage: buidl"))
    assert str(problem) == (
        "/nonexistent/demo/guide.yaml:8: metadata.stage: 'buidl' is not one of: "
        "discover, build, test, integrate, verify (did you mean 'build'?)"
    )


# YAML syntax.


def test_bad_indentation_points_at_the_line() -> None:
    problem = only_problem(VALID.replace("  title: Demo guide", "   title: Demo guide"))
    assert problem.line == 5
    assert problem.path == ""
    assert problem.message.startswith("invalid YAML: mapping values are not allowed here")
    assert problem.hint == "fix the YAML syntax at that line"


def test_unclosed_quote_points_at_the_opening_quote_not_the_end_of_file() -> None:
    problem = only_problem(VALID.replace("rm -rf tmp", '"rm -rf tmp'))
    assert problem.line == 30
    assert "found unexpected end of stream" in problem.message
    assert "quoted scalar started on line 30" in problem.message


def test_unclosed_flow_mapping() -> None:
    problem = only_problem(VALID.replace("date: 2026-11-20}", "date: 2026-11-20"))
    assert problem.line == 11
    assert "flow mapping started on line 10" in problem.message


def test_empty_and_comment_only_files() -> None:
    for text in ("", "# nothing yet\n"):
        problem = only_problem(text)
        assert (problem.line, problem.message) == (1, "the spec is empty")


def test_two_documents() -> None:
    problem = only_problem(VALID + "---\na: 1\n")
    assert "expected a single document" in problem.message


def test_top_level_list() -> None:
    problem = only_problem("- a\n- b\n")
    assert problem.message == "expected a mapping for the document, got a list"


def test_unreadable_file(tmp_path: Path) -> None:
    guide, problems = parse_guide(tmp_path / "missing" / "guide.yaml")
    assert guide is None
    assert len(problems) == 1
    assert problems[0].line is None
    assert problems[0].message.startswith("cannot read the spec")


# Every problem is collected.


def test_every_problem_in_a_file_is_reported() -> None:
    text = (
        VALID.replace("stage: build", "stage: buidl")
        .replace("timeout: 60", "timeout: fast")
        .replace('  owner: "@acme/platform"\n', "")
    )
    guide, problems = parse(text)
    assert guide is None
    assert [(p.line, p.path) for p in problems] == [
        (7, "metadata.stage"),
        (4, "metadata.owner"),
        (21, "spec.steps[0].timeout"),
    ]


def test_cross_field_problems_are_all_reported() -> None:
    text = (
        VALID.replace("id: check", "id: say-hello")
        .replace("run: echo hello", "run: $ echo hello")
        .replace("id: tidy", "id: Tidy")
    )
    _, problems = parse(text)
    # The id pattern is a field problem: cross-field rules run only on a well-formed guide.
    assert [p.path for p in problems] == ["spec.cleanup[0].id"]
    text = text.replace("id: Tidy", "id: tidy")
    _, problems = parse(text)
    assert [p.path for p in problems] == ["spec.steps[0].run", "spec.steps[1].id"]


# Several guides.


def _guide(guide_id: str, extra: str = "") -> str:
    return VALID.replace("id: demo", f"id: {guide_id}") + extra


def test_collect_guides_checks_links_between_guides(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "alpha/guide.yaml": _guide("alpha", "  nextSteps:\n    - guide: beta\n"),
            "beta/guide.yaml": _guide("beta", "  nextSteps:\n    - guide: alhpa\n"),
            "broken/guide.yaml": _guide("broken").replace("stage: build", "stage: nope"),
            "not-a-guide/README.md": "no spec here\n",
        },
    )
    guides, problems = collect_guides(tmp_path)
    assert [g.id for g in guides] == ["alpha", "beta"]
    assert [(Path(p.file).parent.name, p.line, p.path) for p in problems] == [
        ("broken", 8, "metadata.stage"),
        ("beta", 32, "spec.nextSteps[0].guide"),
    ]
    assert problems[1].message == "no guide with id 'alhpa'"
    assert problems[1].hint == "did you mean 'alpha'?"


def test_load_guides_raises_with_every_problem(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "one/guide.yaml": _guide("one").replace("stage: build", "stage: nope"),
            "two/guide.yaml": _guide("two").replace("timeout: 60", "timeout: soon"),
        },
    )
    with pytest.raises(UserError) as info:
        load_guides(tmp_path)
    assert [p.path for p in info.value.problems] == ["metadata.stage", "spec.steps[0].timeout"]
    assert info.value.exit_code == 2


def test_load_guides_only_and_unknown_names(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "alpha/guide.yaml": _guide("alpha"),
            "beta/guide.yaml": _guide("beta"),
        },
    )
    assert [g.id for g in load_guides(tmp_path)] == ["alpha", "beta"]
    assert [g.id for g in load_guides(tmp_path, only=["beta"])] == ["beta"]
    with pytest.raises(UserError) as info:
        load_guides(tmp_path, only=["alpah"])
    (problem,) = info.value.problems
    assert problem.message == "no guide named 'alpah'"
    assert problem.hint == "did you mean 'alpha'?"


def test_missing_golden_paths_dir(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="golden-paths directory not found"):
        collect_guides(tmp_path / "nowhere")


def test_step_lines_survive_in_guides_loaded_from_disk(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"demo/guide.yaml": VALID})
    (guide,) = load_guides(tmp_path)
    assert isinstance(guide.spec.steps[0], Step)
    assert guide.spec.steps[0].line == 19
    assert guide.spec.cleanup[0].line == 28
