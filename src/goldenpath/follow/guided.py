"""A guided run of one guide in the reader's terminal: each step shown, run when they say so (or
run by them and then checked), its status, and on failure the matching fix and what to do next.

The steps run through the same :class:`~goldenpath.run.runner.StepRunner` as checks do, so a
step passes here exactly when it would pass in a check, but in the reader's own folder and
environment (:class:`~goldenpath.follow.machine.ReaderMachine`). Nothing is recorded in the run
history: this is the reader's machine, not a sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from goldenpath.errors import EXIT_BROKEN, EXIT_INFRA, EXIT_INTERRUPTED, EXIT_OK, Problem, UserError
from goldenpath.follow import digest
from goldenpath.follow.digest import Done
from goldenpath.follow.machine import ReaderMachine
from goldenpath.follow.terminal import Terminal
from goldenpath.render.renderer import RenderedGuide, RenderedStep
from goldenpath.run import actions, proof
from goldenpath.run.background import Background
from goldenpath.run.cancel import Watch
from goldenpath.run.expectations import Attempt, check_files
from goldenpath.run.masking import mask
from goldenpath.run.results import StepResult, failure_text
from goldenpath.run.runner import StepRunner, new_run_id
from goldenpath.sandbox.base import GuideRun
from goldenpath.spec.urls import page_url

RUN, MYSELF, SKIP, QUIT, RETRY = "r", "m", "s", "q", "r"
GOOD = ("passed", "done by you, checked", "done by you")


def start_index(steps: Sequence[RenderedStep], start: str | None) -> int:
    """Where ``--from`` starts: a step's id or its number on the page."""
    if start is None:
        return 0
    for index, step in enumerate(steps):
        if step.id == start or (step.number is not None and str(step.number) == start):
            return index
    shown = ", ".join(s.id for s in steps if not s.step.hidden)
    raise UserError([Problem("--from", None, start, "no such step in this guide", f"steps: {shown}")])


class Follow:
    """One reader following one guide; :meth:`run` returns the command's exit code."""

    def __init__(
        self,
        rendered: RenderedGuide,
        machine: ReaderMachine,
        term: Terminal,
        *,
        start: str | None = None,
        assume_yes: bool = False,
        keep_running: bool = False,
        cleanup: bool = False,
        site_url: str = "",
        titles: Mapping[str, str] | None = None,
    ) -> None:
        self.rendered, self.guide = rendered, rendered.guide
        self.machine, self.term = machine, term
        self.first = start_index(rendered.steps, start)
        self.assume_yes, self.keep_running, self.cleanup = assume_yes, keep_running, cleanup
        self.site_url = site_url
        self.titles = dict(titles or {})
        """Titles of other guides, for the next steps."""
        self.reached_end = False
        self.done: list[Done] = []
        self.started: list[tuple[RenderedStep, Background]] = []
        self.secrets = [v for v in rendered.secrets.values() if v]

    def _mask(self, text: str) -> str:
        return mask(text, self.secrets) if self.secrets else text

    def resume_command(self, step: RenderedStep) -> str:
        return f"goldenpath follow {self.guide.id} --from {step.id}"

    # the session ----------------------------------------------------------------------------

    def run(self) -> int:
        secret_env = {
            p.env_var: self.rendered.secrets[p.name] for p in self.guide.spec.parameters if p.secret
        }
        run = GuideRun(self.guide.id, new_run_id(), secret_env)
        with self.machine.open(run) as session:
            self.runner = StepRunner(self.rendered, session, run.run_id, lambda event: None, Watch(None))
            interrupted = False
            try:
                code = self._follow()
            except KeyboardInterrupt:
                interrupted = True
                self.runner.shell.stop()
                self.term.say()
                self.term.status("bad", "Stopped (Ctrl-C).")
                code = EXIT_INTERRUPTED
            finally:
                kept = self._background_at_end(interrupted)  # stopped on any error unless kept
                self.machine.keep_scratch = bool(kept)
                self.runner.shell.close()
            titles = self.titles if self.reached_end else None
            digest.show(self.term, self.machine, self.guide, self.done, kept, titles)
        return code

    def _follow(self) -> int:
        self._introduce()
        self._prerequisites()
        steps = self.rendered.steps
        if self.first:
            before = steps[self.first - 1]
            self.term.say(
                f"Starting at step {steps[self.first].number}: steps up to {before.number} are yours."
            )
        for step in steps[self.first :]:
            code = self._hidden(step) if step.step.hidden else self._offer(step)
            if code is not None:
                return code
        self.reached_end = True
        if self.rendered.cleanup:
            self._offer_cleanup()
        return EXIT_OK if all(d.status in GOOD or d.step.step.hidden for d in self.done) else EXIT_BROKEN

    def _introduce(self) -> None:
        meta = self.guide.metadata
        self.term.heading(meta.title)
        self.term.prose(meta.summary)
        self.term.say(f"Working directory: {self.machine.workdir}")
        values = [
            f"{p.name}={'***' if p.secret else self.rendered.values.get(p.name)}"
            for p in self.guide.spec.parameters
        ]
        if values:
            self.term.say(f"Your values: {', '.join(values)} (change them with --set NAME=VALUE)")
        needs_cluster = any("cluster" in s.step.requires for s in self.rendered.steps)
        if needs_cluster:
            context = self.machine.context()
            self.term.say(
                f"Cluster: kubectl context {context!r}"
                if context
                else "Cluster: none configured; the steps that need one will say how to get one"
            )
        self.term.dim(
            "Each step shows its command; goldenpath runs it when you say so, then checks it as the "
            "platform's checks do. Ctrl-C stops."
        )

    def _prerequisites(self) -> None:
        checks = [(text, command) for text, command in self.rendered.prerequisites if command]
        if not checks:
            return
        self.term.heading("Before you start")
        for text, command in checks:
            if actions.prerequisite(self.runner.shell, command, text).outcome == "passed":
                self.term.status("good", _first_clause(text))
            else:
                self.term.status("bad", f"not met: {command}")
                self.term.prose(text, indent="    ")

    # one step -------------------------------------------------------------------------------

    def _show(self, step: RenderedStep) -> None:
        total = sum(1 for s in self.rendered.steps if not s.step.hidden)
        self.term.heading(f"Step {step.number} of {total}: {step.title}")
        if step.explain.strip():
            self.term.prose(step.explain)
        if step.file is not None:
            lines = len(step.file.content.splitlines())
            self.term.say(f"This step creates {step.file.path} ({lines} lines; the page shows it).")
        elif step.http is not None:
            self.term.block(f"{step.http.method} {step.http.url}")
        elif step.run is not None:
            self.term.block(self._mask(step.run))
        if step.step.background:
            self.term.dim("It keeps running in the background while you follow the next steps.")
        self.term.say()

    def _offer(self, step: RenderedStep) -> int | None:
        self._show(step)
        for requirement in step.step.requires:
            missing = self.machine.missing(requirement)
            if missing:
                return self._refuse(step, requirement, missing)
        verb = "write it" if step.file is not None else "run it"
        choice = RUN
        if not self.assume_yes:
            choice = self.term.ask(
                "Ready?",
                {RUN: verb, MYSELF: "I did it myself, check it", SKIP: "skip it", QUIT: "stop here"},
                RUN,
            )
        while True:
            if choice == QUIT:
                return self._quit(step)
            if choice == SKIP:
                self.done.append(Done(step, "skipped by you"))
                self.term.status("neutral", f"Step {step.number} skipped")
                return None
            result, status = self._by_reader(step) if choice == MYSELF else (self._run(step), "passed")
            if result.outcome == "passed":
                self.done.append(Done(step, status, result))
                return None
            again = self._failed(step, result)
            if again is None:
                return EXIT_BROKEN
            choice = again

    def _run(self, step: RenderedStep) -> StepResult:
        before = len(self.runner.background)
        if step.run is not None or step.http is not None:
            self.term.dim("running...")
        result = self.runner.step(step)
        self.started += [(step, process) for process in self.runner.background[before:]]
        output = "\n".join(part for part in (result.stdout, result.stderr) if part.strip())
        if output.strip() and step.file is None:
            self.term.block(output)
        if result.outcome == "passed":
            self.term.status("good", f"Step {step.number} passed ({result.duration:.1f} s)")
        return result

    def _by_reader(self, step: RenderedStep) -> tuple[StepResult, str]:
        """The reader did the step themselves: take what later steps need, then run its checks;
        the result and how the step counts (checked, or done on their word)."""
        if not self.term.wait(f"Do it in {self.machine.workdir}, then press Enter here to check it."):
            return self._reader_result(step, Attempt("failed", "no answer: the input closed")), "failed"
        for capture in step.capture:
            value = self.term.read(f"From its output, {capture.description.strip()}: ", secret=capture.secret)
            self.runner.captured[capture.name] = value
            if capture.secret and value:
                self.runner.secrets.append(value)
                self.secrets.append(value)
        attempt = Attempt("passed")
        checked = False
        if step.file is not None:
            checked = True
            if not (self.machine.workdir / step.file.path).is_file():
                attempt = attempt.fail((f"{step.file.path} does not exist", f"a file at {step.file.path}"))
        if attempt.outcome == "passed" and check_files(step.expect, self.machine.workdir) is not None:
            attempt = attempt.fail(check_files(step.expect, self.machine.workdir))
        checked = checked or bool(step.expect.files)
        if attempt.outcome == "passed" and step.check is not None:
            checked = True
            self.term.dim(f"checking: {proof.describe(step.check)}")
            attempt = proof.after(self.runner.shell, step.check, self.runner.cancel)
        result = self._reader_result(step, attempt)
        if result.outcome == "passed":
            what = "checked" if checked else "this step has no check of its own: counted as done"
            self.term.status("good" if checked else "neutral", f"Step {step.number}: {what}")
        return result, "done by you, checked" if checked else "done by you"

    def _reader_result(self, step: RenderedStep, attempt: Attempt) -> StepResult:
        return StepResult(
            step_id=step.id,
            title=step.title,
            number=step.number,
            section=step.section,
            outcome=attempt.outcome,
            message=self._mask(attempt.message),
            exit_code=attempt.exit_code,
            stdout=self._mask(attempt.stdout),
            stderr=self._mask(attempt.stderr),
            expected=self._mask(attempt.expected),
            line=step.step.line,
        )

    def _hidden(self, step: RenderedStep) -> int | None:
        """A verification step: not on the page, so not offered; run as a check of the last step."""
        self.term.dim(f"checking: {step.title}")
        result = self.runner.step(step)
        if result.outcome in ("passed", "skipped"):
            self.done.append(Done(step, "passed" if result.outcome == "passed" else "skipped by you", result))
            return None
        self.done.append(Done(step, "failed", result))
        self._explain_failure(step, result)
        return EXIT_BROKEN

    # failures -------------------------------------------------------------------------------

    def _failed(self, step: RenderedStep, result: StepResult) -> str | None:
        """Show the failure, the matching fix and the way on; the reader's next choice, or None
        to stop (also whenever nobody is there to answer)."""
        self._explain_failure(step, result)
        if self.assume_yes:
            self.done.append(Done(step, "failed", result))
            return None
        choice = self.term.ask(
            "What now?",
            {
                RETRY: "run it again",
                MYSELF: "I fixed it myself, check it",
                SKIP: "skip it",
                QUIT: "stop here",
            },
            RETRY,
        )
        if choice == QUIT:
            self.done.append(Done(step, "failed", result))
            self.term.say(f"To carry on later from this step: {self.resume_command(step)}")
            return None
        return choice

    def _explain_failure(self, step: RenderedStep, result: StepResult) -> None:
        self.term.status("bad", f"Step {step.number} failed: {result.message}")
        if result.expected and result.outcome != "error":
            self.term.say("  expected:")
            self.term.block(result.expected, indent="    ")
        matching, others = self.guide.known_problems(step.id, failure_text(result), result.exit_code)
        for entry in matching:
            self.term.say()
            self.term.say(f"Known problem: {' '.join(entry.problem.split())}")
            self.term.prose("Fix: " + entry.fix, indent="  ")
        if not matching:
            where = page_url(self.guide, self.site_url, step.id)
            hint = "its known problems are" if others else "the page is"
            self.term.say(f"No known problem of this step matches; {hint} at {where}")
            self.term.say(f"Still stuck? Ask the guide's owners, {self.guide.metadata.owner}.")
            self.term.say()
        self.term.say(
            f"Next: fix it and run the step again, or stop and resume later with: {self.resume_command(step)}"
        )

    def _refuse(self, step: RenderedStep, requirement: str, missing: str) -> int:
        self.done.append(Done(step, "refused"))
        self.term.status("bad", f"Step {step.number} not run: {missing}.")
        self.term.prose(f"To get one: {self.machine.fix(requirement)}. Then carry on from this step:")
        self.term.block(self.resume_command(step))
        return EXIT_INFRA

    def _quit(self, step: RenderedStep) -> int:
        self.term.say(f"Stopped before step {step.number}. To carry on later: {self.resume_command(step)}")
        return EXIT_BROKEN

    # the end --------------------------------------------------------------------------------

    def _offer_cleanup(self) -> None:
        titles = ", ".join(s.title for s in self.rendered.cleanup)
        wanted = self.cleanup
        if not wanted and not self.assume_yes:
            wanted = self.term.ask(f"Clean up now ({titles})?", {"n": "keep it", "y": "clean up"}, "n") == "y"
        if not wanted:
            self.term.say("Kept. To remove it later, run:")
            for cleanup_step in self.rendered.cleanup:
                if cleanup_step.run is not None:
                    self.term.block(self._mask(cleanup_step.run))
            return
        for cleanup_step in self.rendered.cleanup:
            self._show(cleanup_step)
            result = self._run(cleanup_step)
            self.done.append(Done(cleanup_step, "passed" if result.outcome == "passed" else "failed", result))
            if result.outcome != "passed":
                self._explain_failure(cleanup_step, result)

    def _background_at_end(self, interrupted: bool) -> list[tuple[RenderedStep, Background]]:
        """Stop the background processes the session started, unless the reader keeps them."""
        running = [(step, p) for step, p in self.started if p.exit_code() is None]
        if not running:
            return []
        keep = self.keep_running
        if not keep and not self.assume_yes and not interrupted:
            names = ", ".join(step.title for step, _ in running)
            keep = (
                self.term.ask(f"Leave running: {names}?", {"n": "stop them", "y": "leave them"}, "n") == "y"
            )
        if keep:
            return running
        for _, process in running:
            process.stop()
        self.term.status("neutral", f"Stopped {len(running)} background process(es) this session started.")
        return []


def _first_clause(text: str) -> str:
    """A prerequisite's text up to its first ``;`` or sentence end, without Markdown marks."""
    clause = " ".join(text.split()).split("; ")[0].split(". ")[0]
    return clause.replace("`", "").rstrip(".")
