"""Bite checks and captured values, run for real on the local sandbox; their page and their rules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import UserError
from goldenpath.render.renderer import render_guide
from goldenpath.run import runner
from goldenpath.run.results import GuideResult, describe_failure
from goldenpath.sandbox.local import LocalSandbox
from goldenpath.site.page import PageBuilder
from goldenpath.spec import loader
from helpers import write_guide

PY = sys.executable


def load(tmp_path: Path, steps: list[dict[str, Any]], **options: Any) -> Any:
    folder = tmp_path / "golden_paths"
    write_guide(folder, "demo", steps, **options)
    (guide,) = loader.load_guides(folder)
    return guide


def run(tmp_path: Path, steps: list[dict[str, Any]], **options: Any) -> GuideResult:
    return runner.run_guide(runner.prepare(load(tmp_path, steps, **options)), LocalSandbox())


def outcomes(result: GuideResult) -> dict[str, str]:
    return {s.step_id: s.outcome for s in result.steps}


SERVE = {
    "id": "serve",
    "title": "Write the marker",
    "run": "echo ready > marker",
    "expect": {"nothing": True},
    "check": {"run": "cat marker", "expect": {"output": "ready\n"}},
}


def test_a_bite_check_that_fails_before_and_passes_after_its_step_passes(tmp_path: Path) -> None:
    result = run(tmp_path, [SERVE])
    assert outcomes(result) == {"serve": "passed"}


def test_a_bite_check_that_passes_before_its_step_breaks_the_guide(tmp_path: Path) -> None:
    prepare = {
        "id": "early",
        "title": "Already there",
        "run": "echo ready > marker",
        "expect": {"nothing": True},
    }
    result = run(tmp_path, [prepare, SERVE])
    assert result.outcome == "failed"
    failed = result.steps[1]
    assert failed.step_id == "serve" and failed.outcome == "failed"
    assert failed.message.startswith("this check would pass without the step: `cat marker` already passed")
    assert "this check would pass without the step" in describe_failure(
        result, load(tmp_path, [prepare, SERVE])
    )


def test_a_bite_check_that_still_fails_after_its_step_breaks_the_guide(tmp_path: Path) -> None:
    step = {**SERVE, "run": "echo other > marker"}
    result = run(tmp_path, [step])
    assert outcomes(result) == {"serve": "failed"}
    assert result.steps[0].message.startswith("the step's check did not pass after the step")
    assert "-ready" in result.steps[0].expected and "+other" in result.steps[0].expected


def test_a_bite_check_waits_within_its_budget_for_a_background_step(tmp_path: Path) -> None:
    server = {
        "id": "start",
        "title": "Start a slow writer",
        "run": "sleep 1 && echo up > later && sleep 60",
        "background": True,
        "check": {"run": "cat later", "expect": {"contains": ["up"]}, "within": 10},
    }
    result = run(tmp_path, [server])
    assert outcomes(result) == {"start": "passed"}


def test_a_captured_value_reaches_a_later_step_and_the_page_shows_a_placeholder(tmp_path: Path) -> None:
    steps = [
        {
            "id": "list",
            "title": "List the pods",
            "run": "printf 'NAME  READY\\nhello-7d9f8-x2k4q  1/1\\n'",
            "expect": {"contains": ["hello-"]},
            "capture": [
                {"name": "pod_name", "regex": "^(hello-\\S+)", "description": "the name of one of the pods"}
            ],
        },
        {
            "id": "describe",
            "title": "Describe one",
            "run": "echo 'Name: {{ pod_name }}'",
            "expect": {"output": "Name: {{ pod_name }}\n"},
        },
        {
            "id": "json",
            "title": "Read JSON",
            "run": """echo '{"items": [{"metadata": {"name": "{{ pod_name }}"}}]}'""",
            "expect": {"contains": ["items"]},
            "capture": [{"name": "first", "json": "items[0].metadata.name", "description": "the first name"}],
        },
        {
            "id": "same",
            "title": "Same",
            "run": "test {{ first }} = hello-7d9f8-x2k4q",
            "expect": {"nothing": True},
        },
    ]
    result = run(tmp_path, steps)
    assert result.outcome == "passed", describe_failure(result, load(tmp_path, steps))
    assert result.steps[1].command == "echo 'Name: hello-7d9f8-x2k4q'"

    page = PageBuilder().guide_page(render_guide(load(tmp_path, steps))).markdown
    assert "echo 'Name: <pod-name>'" in page
    assert (
        "- `<pod-name>` with the name of one of the pods, from the output of step 1: List the pods." in page
    )
    assert "- the name of one of the pods: the next steps write it as `<pod-name>`." in page


def test_a_capture_that_finds_nothing_fails_its_step_and_its_users_do_not_run(tmp_path: Path) -> None:
    steps = [
        {
            "id": "list",
            "title": "List",
            "run": "echo nothing here",
            "expect": {"nothing": True},
            "capture": [{"name": "pod_name", "regex": "^(hello-\\S+)", "description": "a pod"}],
        },
        {"id": "use", "title": "Use it", "run": "echo {{ pod_name }}", "expect": {"nothing": True}},
    ]
    cleanup = [{"id": "tidy", "title": "Tidy", "run": "echo {{ pod_name }}", "expect": {"nothing": True}}]
    result = run(tmp_path, steps, cleanup=cleanup)
    assert outcomes(result) == {"list": "failed", "use": "skipped", "tidy": "skipped"}
    assert "capture 'pod_name': the regular expression" in result.steps[0].message
    assert result.steps[2].message == "not run: nothing captured 'pod_name' (from step 'list')"


def test_a_secret_capture_is_masked_in_every_report(tmp_path: Path) -> None:
    steps = [
        {
            "id": "token",
            "title": "Get a token",
            "run": "echo token=s3cr3t-value-42",
            "expect": {"nothing": True},
            "capture": [
                {"name": "token", "regex": "token=(\\S+)", "description": "the token", "secret": True}
            ],
        },
        {
            "id": "use",
            "title": "Use it",
            "run": "echo using {{ token }}; exit 3",
            "expect": {"nothing": True},
        },
    ]
    result = run(tmp_path, steps)
    assert result.outcome == "failed"
    text = describe_failure(result, load(tmp_path, steps))
    assert "s3cr3t-value-42" not in text and "using ***" in text
    assert "s3cr3t-value-42" not in result.steps[1].command


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [
                {"id": "a", "title": "A", "run": "echo {{ x }}", "expect": {"nothing": True}},
                {
                    "id": "b",
                    "title": "B",
                    "run": "echo 1",
                    "expect": {"nothing": True},
                    "capture": [{"name": "x", "regex": "1", "description": "d"}],
                },
            ],
            "step 'a' uses 'x' before a step captures it",
        ),
        (
            [
                {
                    "id": "a",
                    "title": "A",
                    "run": "echo 1",
                    "expect": {"nothing": True},
                    "capture": [{"name": "x", "description": "d"}],
                }
            ],
            "set exactly one of 'regex' or 'json'",
        ),
        (
            [
                {
                    "id": "a",
                    "title": "A",
                    "file": {"path": "f", "template": "f.j2"},
                    "capture": [{"name": "x", "regex": "1", "description": "d"}],
                }
            ],
            "only a run or http step that ends has one output to capture",
        ),
        (
            [
                {
                    "id": "a",
                    "title": "A",
                    "run": "echo 1",
                    "expect": {"nothing": True},
                    "check": {"expect": {}},
                }
            ],
            "set exactly one of 'run' or 'http'",
        ),
    ],
)
def test_captures_and_bite_checks_that_cannot_work_are_spec_errors(
    tmp_path: Path, steps: list[dict[str, Any]], message: str
) -> None:
    folder = tmp_path / "golden_paths"
    spec = write_guide(folder, "demo", steps, templates={"f.j2": "x\n"})
    with pytest.raises(UserError) as raised:
        loader.load_guides(folder)
    problems = [str(p) for p in raised.value.problems]
    assert any(message in p and p.startswith(f"{spec}:") for p in problems), problems


def test_the_page_counts_bite_checked_steps(tmp_path: Path) -> None:
    guide = load(
        tmp_path, [SERVE, {"id": "other", "title": "Other", "run": "true", "expect": {"nothing": True}}]
    )
    page = PageBuilder().guide_page(render_guide(guide)).markdown
    assert "**Proven steps:** 1 of 2 steps has a check that fails before the step and passes after it" in page
    assert "Check that it worked:\n\n```bash\ncat marker\n```" in page
