"""GP114: a step that only verifies what the step before it started is better as its bite check."""

from __future__ import annotations

from pathlib import Path

from test_dead_parts import copy_guides, edit, line_of, lint

from goldenpath.lint.bite import only_reads
from goldenpath.lint.report import run_rules
from goldenpath.spec.loader import collect_guides
from goldenpath.spec.model import Step

CHECK = """      check:  # nothing answers on the port before this step starts
        run: curl -s http://127.0.0.1:{{ port }}/healthz
        expect: {contains: ['"ok"']}
"""


def test_gp114_a_verification_after_a_background_step_without_a_check_fires(tmp_path: Path) -> None:
    spec = copy_guides(tmp_path) / "hello-world" / "guide.yaml"
    edit(spec, CHECK, "")
    result = lint(tmp_path, "--strict")
    assert result.returncode == 2, result.stdout + result.stderr
    line = line_of(spec, "- id: call-it")
    assert (
        f"{spec}:{line}: spec.steps[4]: GP114 step 'call-it' only looks at what 'run-locally' did"
        in result.stderr
    )


def test_the_shipped_guides_have_their_bite_checks() -> None:
    guides, problems = collect_guides(Path(__file__).resolve().parents[2] / "golden_paths")
    assert not problems
    assert [str(f) for f in run_rules(guides) if f.rule == "GP114"] == []
    checked = [s.id for g in guides for s in g.spec.steps if s.check is not None]
    assert len(checked) == 7


def test_what_counts_as_only_reading() -> None:
    def step(run: str, **extra: object) -> Step:
        return Step(id="s", title="S", run=run, **extra)  # type: ignore[arg-type]

    assert only_reads(step("kubectl get pods -l app=hello"))
    assert only_reads(step("curl -s http://127.0.0.1:8080/"))
    assert only_reads(step("grep -c ready app.log"))
    assert not only_reads(step("curl -s -X POST http://127.0.0.1:8080/"))
    assert not only_reads(step("curl -d x=1 http://127.0.0.1:8080/"))
    assert not only_reads(step("kubectl rollout status deployment/hello"))  # a wait is a step
    assert not only_reads(step("kubectl apply -f deploy.yaml"))
    assert not only_reads(step("cat a > b"))
    assert not only_reads(step("curl -s http://x/", background=True))
