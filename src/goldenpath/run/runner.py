"""Run a rendered guide end to end in a sandbox, step by step, as a reader would.

Prerequisites first, then the steps in order until one does not pass, then the cleanup, which
always runs once a step has started. Every process the run starts is stopped when it ends: the
shell (:mod:`.shell`), background steps (:mod:`.background`) and anything else that carries the
run's id in its environment, which is reported as left behind.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from goldenpath.errors import SandboxError, UserError
from goldenpath.host import sweep
from goldenpath.render import renderer
from goldenpath.render.renderer import RenderedGuide, RenderedStep
from goldenpath.run import actions, proof
from goldenpath.run.background import Background
from goldenpath.run.cancel import Watch
from goldenpath.run.events import Event, EventHook
from goldenpath.run.expectations import Attempt, only_output_differs
from goldenpath.run.masking import mask
from goldenpath.run.results import (
    INTERRUPTED,
    GuideResult,
    Interrupted,
    StepResult,
    guide_outcome,
    sandbox_step,
    tail,
)
from goldenpath.run.retry import with_retry
from goldenpath.run.shell import Shell
from goldenpath.sandbox.base import GuideRun, Sandbox, Session, StepCoverage
from goldenpath.spec import captures, params
from goldenpath.spec.model import Guide


def new_run_id() -> str:
    """A run id that sorts by time: ``20261202T031500-3f9a1c2b``."""
    return f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def prepare(guide: Guide, kubernetes_version: str | None = None) -> RenderedGuide:
    """Render a guide for a check run: free ports, secrets from the environment."""
    values, secrets = params.run_values(guide)
    if kubernetes_version is None:
        return renderer.render_guide(guide, values, secrets)
    return renderer.render_guide(guide, values, secrets, kubernetes_version=kubernetes_version)


def run_guide(
    rendered: RenderedGuide,
    sandbox: Sandbox,
    *,
    on_event: EventHook | None = None,
    run_id: str | None = None,
    cancel: threading.Event | None = None,
    accept: bool = False,
) -> GuideResult:
    """Run every prerequisite and step of a guide, then its cleanup; classify the result.

    Cleanup always runs once a step has started, also after a failure, a timeout or Ctrl-C
    (``KeyboardInterrupt`` is re-raised after cleanup, with every process stopped). Setting
    ``cancel`` (from another thread) interrupts the run the same way.

    With ``accept``, a step that does everything it should but print its "you should see"
    block passes, and an ``output-seen`` event carries what it printed (secrets masked), for
    accept mode to write into the spec.
    """
    guide = rendered.guide
    run_id = run_id or new_run_id()
    emit = on_event or (lambda event: None)
    started = datetime.datetime.now(datetime.timezone.utc)
    emit(Event("guide-started", guide.id, title=guide.metadata.title))
    secret_env = {
        p.env_var: rendered.secrets[p.name]
        for p in guide.spec.parameters
        if p.secret and p.name in rendered.secrets
    }
    steps: list[StepResult] = []
    leaks: list[str] = []
    interrupted = False
    versions: dict[str, str] = {}
    try:
        versions = sandbox.versions()
        with sandbox.open(GuideRun(guide.id, run_id, secret_env)) as session:
            run = StepRunner(rendered, session, run_id, emit, Watch(cancel), accept)
            try:
                run.run()
            except KeyboardInterrupt:
                interrupted = True
            finally:
                steps = run.results
                leaks.extend(run.close())
        leaks.extend(session.leaks)
    except SandboxError as exc:
        steps.append(_sandbox_error(rendered, exc))
    except KeyboardInterrupt:  # while the sandbox opened or closed: it cleaned up, now report it
        interrupted = True
    if interrupted:
        steps.append(sandbox_step("interrupted", "interrupted", INTERRUPTED))
    result = GuideResult(
        guide_id=guide.id,
        outcome=guide_outcome(steps),
        run_id=run_id,
        started=started,
        finished=datetime.datetime.now(datetime.timezone.utc),
        sandbox=sandbox.name,
        sandbox_versions=versions,
        steps=tuple(steps),
        leaks=tuple(mask(leak, rendered.secrets.values()) for leak in leaks),
        content_hash=rendered.content_hash(),
        source=str(guide.source),
    )
    emit(Event("guide-finished", guide.id, guide_result=result))
    if interrupted:
        raise Interrupted(result)
    return result


def _sandbox_error(rendered: RenderedGuide, exc: SandboxError) -> StepResult:
    return sandbox_step("sandbox", "open the sandbox", mask(str(exc), rendered.secrets.values()))


def unavailable(rendered: RenderedGuide, sandbox_name: str, exc: SandboxError) -> GuideResult:
    """The result of a guide that could not start because the sandbox is unavailable.

    Recorded like any run, so pages show that the last attempt hit a sandbox error while the
    guide keeps its previous status.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    return GuideResult(
        guide_id=rendered.guide.id,
        outcome="error",
        run_id=new_run_id(),
        started=now,
        finished=now,
        sandbox=sandbox_name,
        steps=(_sandbox_error(rendered, exc),),
        content_hash=rendered.content_hash(),
        source=str(rendered.guide.source),
    )


class StepRunner:
    """A guide's steps in a session: all (``run``) or one at a time (``step``: ``goldenpath follow``)."""

    def __init__(
        self,
        rendered: RenderedGuide,
        session: Session,
        run_id: str,
        emit: EventHook,
        cancel: Watch,
        accept: bool = False,
    ) -> None:
        self.rendered = rendered
        self.guide = rendered.guide
        self.session = session
        self.run_id = run_id
        self.emit = emit
        self.secrets = [s for s in rendered.secrets.values() if s]
        self.cancel, self.accept = cancel, accept
        self.shell = Shell(session, cancel, [p.env_var for p in rendered.guide.spec.parameters if p.secret])
        self.background: list[Background] = []
        self.results: list[StepResult] = []
        self.captured: dict[str, str] = {}
        names = captures.captures(rendered.guide)
        self.needs = {s.id: captures.uses(s.step, list(names)) for s in rendered.steps + rendered.cleanup}
        self.captured_by = {name: step.id for name, (_, step) in names.items()}

    def run(self) -> None:
        started_steps = False
        try:
            if not self._prerequisites():
                self._not_run(self.rendered.steps, "not run: a prerequisite is not met")
                self._not_run(self.rendered.cleanup, "not run: no step ran")
                return
            started_steps = True
            for index, step in enumerate(self.rendered.steps):
                result = self.step(step)
                if result.outcome not in ("passed", "skipped"):
                    self._not_run(self.rendered.steps[index + 1 :], f"not run: {result.label} did not pass")
                    break
        except KeyboardInterrupt:
            self.cancel.armed = False  # cleanup runs in full; only a second Ctrl-C stops it
            self.shell.stop()
            if started_steps:
                self._cleanup()
            raise
        self._cleanup()

    def _cleanup(self) -> None:
        for step in self.rendered.cleanup:
            self.step(step)

    def close(self) -> list[str]:
        """Stop background processes and the shell; return what had to be stopped as leftovers."""
        for process in reversed(self.background):
            process.stop()
        self.shell.close()
        return [mask(leak, self.secrets) for leak in sweep("GOLDENPATH_RUN_ID", self.run_id)]

    def _not_run(self, steps: Sequence[RenderedStep], reason: str) -> None:
        for step in steps:
            self._finished(step, self._result(step, Attempt("skipped", reason), 0.0, 0))

    def _finished(self, step: RenderedStep, result: StepResult) -> None:
        self.results.append(result)
        self.emit(
            Event(
                "step-finished", self.guide.id, step.id, step.title, step.number, step.section, result=result
            )
        )

    def _result(
        self,
        step: RenderedStep,
        attempt: Attempt,
        duration: float,
        attempts: int,
        coverage: StepCoverage = "real",
    ) -> StepResult:
        return self._masked(
            attempt,
            step_id=step.id,
            title=step.title,
            number=step.number,
            section=step.section,
            duration=duration,
            line=step.step.line,
            attempts=attempts,
            hidden=step.step.hidden,
            coverage="skipped" if attempt.outcome == "skipped" else coverage,
        )

    def _masked(self, attempt: Attempt, **where: Any) -> StepResult:
        """The result of an attempt, with every text it printed masked."""
        m = self._mask
        return StepResult(
            outcome=attempt.outcome,
            message=m(attempt.message),
            command=m(attempt.command),
            exit_code=attempt.exit_code,
            stdout=m(tail(attempt.stdout)),
            stderr=m(tail(attempt.stderr)),
            expected=m(attempt.expected),
            **where,
        )

    def _mask(self, text: str) -> str:
        return mask(text, self.secrets) if self.secrets else text  # most guides have no secret

    # prerequisites --------------------------------------------------------------------------

    def _prerequisites(self) -> bool:
        ok = True
        for index, (text, command) in enumerate(self.rendered.prerequisites):
            if command is None:
                continue
            step_id = f"prerequisite-{index + 1}"
            title = first_line(text)
            self.emit(Event("step-started", self.guide.id, step_id, title, None, "prerequisites"))
            start = time.monotonic()
            attempt = actions.prerequisite(self.shell, command, title)
            result = self._masked(
                attempt,
                step_id=step_id,
                title=title,
                number=None,
                section="prerequisites",
                duration=time.monotonic() - start,
                line=self.guide.line_of(f"spec.prerequisites[{index}]"),
            )
            self.results.append(result)
            self.emit(
                Event("step-finished", self.guide.id, step_id, title, None, "prerequisites", result=result)
            )
            ok = ok and result.outcome == "passed"
        return ok

    # steps ----------------------------------------------------------------------------------

    def step(self, step: RenderedStep) -> StepResult:
        self.emit(Event("step-started", self.guide.id, step.id, step.title, step.number, step.section))
        start = time.monotonic()
        coverage, skip_reason = self.session.sandbox.coverage(step.step.requires)
        attempts = 1
        if coverage == "skipped":
            attempt = Attempt("skipped", skip_reason)
        elif missing := [name for name in self.needs[step.id] if name not in self.captured]:
            by = ", ".join(f"'{name}' (from step '{self.captured_by[name]}')" for name in missing)
            coverage, attempt = "skipped", Attempt("skipped", f"not run: nothing captured {by}")
        elif isinstance(again := self._with_captures(step) if self.needs[step.id] else step, Attempt):
            attempt = again
        elif (not_ready := self._prepare(again)) is not None:
            attempt = not_ready
        elif again.check is not None and (bitten := proof.before(self.shell, again.check)) is not None:
            attempt = bitten
        else:
            attempt, attempts = self._act(again)
            if attempt.outcome == "passed" and again.check is not None:
                proved = proof.after(self.shell, again.check, self.cancel)
                attempt = attempt if proved.outcome == "passed" else proved
        if attempt.outcome in ("failed", "timeout") and step.step.requires:
            attempt = self._diagnose(step, attempt)
        result = self._result(step, attempt, time.monotonic() - start, attempts, coverage)
        self._finished(step, result)
        return result

    def _act(self, step: RenderedStep) -> tuple[Attempt, int]:
        if step.file is not None:
            return actions.write_file(step, self.shell.cwd), 1
        if step.step.background:
            return self._background(step), 1
        retry, timeout = step.step.retry, step.step.timeout
        attempt, attempts = with_retry(lambda budget: self._once(step, budget), retry, timeout, self.cancel)
        if self.accept and attempt.outcome != "passed" and step.expect.output is not None:
            attempt = self._accepting(step, attempt)
        return attempt, attempts

    def _with_captures(self, step: RenderedStep) -> RenderedStep | Attempt:
        """The step with the values earlier steps captured (on the page: placeholders)."""
        try:
            return renderer.render_step(self.rendered, step, self.captured)
        except UserError as exc:
            return Attempt("failed", "with the captured values: " + "; ".join(map(str, exc.problems)))

    def _accepting(self, step: RenderedStep, attempt: Attempt) -> Attempt:
        """Accept mode: pass a step that missed only its "you should see" block; say what it printed."""
        if not only_output_differs(step.expect, attempt, step.http is not None, self.shell.cwd):
            return attempt
        shown = attempt.stdout if attempt.stdout.strip() or step.http is not None else attempt.stderr
        seen = Event("output-seen", self.guide.id, step.id, step.title, step.number, step.section)
        secret = {
            c.name for s in self.rendered.steps + self.rendered.cleanup for c in s.step.capture if c.secret
        }
        captured = {name: value for name, value in self.captured.items() if name not in secret}
        self.emit(dataclasses.replace(seen, output=self._mask(shown), captured=captured))
        passed = dataclasses.replace(attempt, outcome="passed", message="", expected="", wrong_output=False)
        return self._capture(step, passed)

    def _capture(self, step: RenderedStep, attempt: Attempt) -> Attempt:
        """Take the step's captures from a passing attempt; a value it cannot find fails it."""
        if attempt.outcome != "passed" or not step.capture:
            return attempt
        values, problem = proof.take(step.capture, attempt.stdout)
        if problem:
            return attempt.fail((problem, "output holding the value to capture"), wrong_output=True)
        self.captured.update(values)
        self.secrets += [values[c.name] for c in step.capture if c.secret and values[c.name]]
        return attempt

    def _prepare(self, step: RenderedStep) -> Attempt | None:
        """Let the sandbox get ready for a step (kwok starts stand-ins); its failure is an error."""
        try:
            self.session.sandbox.before_step(self.session, self.rendered, step)
        except SandboxError as exc:
            return Attempt("error", f"the sandbox could not prepare the step: {exc}")
        return None

    def _diagnose(self, step: RenderedStep, attempt: Attempt) -> Attempt:
        """A step that needs the sandbox failed: blame the sandbox if it broke meanwhile, else
        add what the sandbox saw (a pod's pull error, a failing probe) to the message."""
        problem = self.session.sandbox.diagnose(self.session)
        if problem is None:
            seen = self.session.sandbox.failure_context(self.session)
            return dataclasses.replace(attempt, message=f"{attempt.message}; {seen}") if seen else attempt
        return dataclasses.replace(
            attempt, outcome="error", message=f"{problem} (the step said: {attempt.message})"
        )

    def _once(self, step: RenderedStep, timeout: float) -> Attempt:
        if step.http is not None:
            return self._capture(step, actions.call_http(step.http, step.expect, timeout))
        attempt = Attempt("passed")
        for command in step.commands:
            attempt = actions.command(self.shell, command, step.expect, timeout)
            if attempt.outcome != "passed":
                return attempt
        attempt.command = "\n".join(step.commands)
        return self._capture(step, attempt)

    def _background(self, step: RenderedStep) -> Attempt:
        log = self.session.scratch / f"background-{len(self.background) + 1}.log"
        process, attempt = actions.start_background(step, self.shell, self.session, log, self.cancel)
        self.background.append(process)
        return attempt


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "prerequisite"
