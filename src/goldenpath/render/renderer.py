"""Render a guide with parameter values: commands, file contents, expectations.

The same :class:`RenderedGuide` feeds the page and the runner, so the command a reader copies is
the command the check runs (principle 1).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from goldenpath import config
from goldenpath.errors import Problem, UserError
from goldenpath.render import manifests
from goldenpath.render.jinja import TemplateFolder, jinja_env, sized, substitute, time_limit
from goldenpath.render.languages import language_of
from goldenpath.render.template_lines import source_line, template_line
from goldenpath.spec import captures, params
from goldenpath.spec.loader import content_hash
from goldenpath.spec.model import BiteCheck, Capture, Expect, Guide, HttpAction, Ready, Step


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: str
    language: str
    template: Path
    is_manifest: bool


@dataclass(frozen=True)
class RenderedStep:
    """A step with every reader-visible string rendered."""

    step: Step
    number: int | None
    """Number shown on the page; None for hidden steps."""
    section: str
    """``steps`` or ``cleanup``."""
    explain: str
    after: str
    run: str | None
    variants: tuple[tuple[str, str], ...]
    file: RenderedFile | None
    http: HttpAction | None
    ready: Ready | None
    expect: Expect
    check: BiteCheck | None = None
    """The bite check, rendered."""
    capture: tuple[Capture, ...] = ()
    """What the step captures, with parameters in its patterns filled in."""

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def commands(self) -> tuple[str, ...]:
        """The shell commands this step runs, in order."""
        if self.run is not None:
            return (self.run,)
        return tuple(command for _, command in self.variants)


@dataclass(frozen=True)
class RenderedStandIn:
    deployment: str
    port: int
    run: str


@dataclass(frozen=True)
class RenderedGuide:
    guide: Guide
    values: Mapping[str, Any]
    secrets: Mapping[str, str]
    prerequisites: tuple[tuple[str, str | None], ...]
    steps: tuple[RenderedStep, ...]
    cleanup: tuple[RenderedStep, ...]
    stand_ins: tuple[RenderedStandIn, ...]
    kubernetes_version: str = config.KUBERNETES_VERSION
    """What its manifests were validated against (steps rendered again during a run, too)."""

    @property
    def id(self) -> str:
        return self.guide.id

    @property
    def files(self) -> tuple[RenderedFile, ...]:
        return tuple(s.file for s in self.steps if s.file is not None)

    def content_hash(self) -> str:
        """The guide's content hash (see :func:`~goldenpath.spec.loader.content_hash`)."""
        return content_hash(self.guide)


class _Renderer:
    def __init__(
        self,
        guide: Guide,
        values: Mapping[str, Any],
        kubernetes_version: str,
        bytecode_cache: jinja2.BytecodeCache | None = None,
    ) -> None:
        self.guide = guide
        self.values = dict(values)
        self.kubernetes_version = kubernetes_version
        self.problems: list[Problem] = []
        self.env = jinja_env(TemplateFolder(str(guide.templates_dir)), bytecode_cache)

    def text(self, source: str, path: str) -> str:
        """Render a string from the spec; on error, record a problem at the field's line."""
        if "{" not in source:
            return source
        simple = substitute(source, self.values)
        if simple is not None:
            return simple
        try:
            with time_limit():
                return sized(self.env.from_string(source).render(self.values))
        except jinja2.TemplateSyntaxError as exc:
            self._add(path, f"template syntax error: {exc.message}", "check the {{ }} and {% %} tags")
        except jinja2.UndefinedError as exc:
            self._add(path, f"undefined template variable: {exc.message}", self._undefined_hint(exc))
        except _EXPRESSION_ERRORS as exc:
            self._add(path, _error_text(exc), "fix the template expression")
        return source

    def _add(self, path: str, message: str, hint: str) -> None:
        self.problems.append(Problem(self.guide.source, self.guide.line_of(path), path, message, hint))

    def _undefined_hint(self, exc: jinja2.UndefinedError) -> str:
        known = [p.name for p in self.guide.spec.parameters]
        name = re.match(r"'([^']+)' is undefined", exc.message or "")
        close = difflib.get_close_matches(name[1], known, n=1) if name else []
        if close:
            return f"did you mean '{close[0]}'?"
        return f"declare it under spec.parameters; parameters: {', '.join(known) or 'none'}"

    def template_file(self, name: str, path: str) -> str | None:
        template_path = self.guide.templates_dir / name

        def add(line: int | None, message: str, hint: str) -> None:
            self.problems.append(Problem(template_path, line, "", message, hint))

        try:
            with time_limit():
                return sized(self.env.get_template(name).render(self.values))
        except UnicodeDecodeError as exc:
            add(None, f"the template is not UTF-8 text: {exc.reason}", "save it as UTF-8")
        except jinja2.TemplateSyntaxError as exc:
            add(exc.lineno, f"template syntax error: {exc.message}", "check the {{ }} and {% %} tags")
        except jinja2.TemplateNotFound as exc:
            if exc.name == name:
                self._add(path, f"template '{name}' not found", "create it under templates/")
            else:  # an include or import inside it: only templates/ is searched, never above it
                line = template_line(exc.__traceback__, template_path)
                message = f"the template includes '{exc.name}', which is not under templates/"
                add(line, message, "include a file of templates/")
        except jinja2.UndefinedError as exc:
            line = template_line(exc.__traceback__, template_path)
            add(line, f"undefined template variable: {exc.message}", self._undefined_hint(exc))
        except _EXPRESSION_ERRORS as exc:
            add(
                template_line(exc.__traceback__, template_path),
                _error_text(exc),
                "fix the template expression",
            )
        return None

    def step(self, step: Step, index: int, section: str, number: int | None) -> RenderedStep:
        path = f"spec.{section}[{index}]"
        rendered_file = None
        if step.file is not None:
            rendered_file = self._file(step, path)
        http = None if step.http is None else self._http(step.http, f"{path}.http")
        ready = None
        if step.ready is not None:
            port = step.ready.port
            if isinstance(port, str):
                port = self.text(port, f"{path}.ready.port")
            ready = dataclasses.replace(
                step.ready,
                port=port,
                http=None if step.ready.http is None else self.text(step.ready.http, f"{path}.ready.http"),
            )
        check = None
        if step.check is not None:
            check = dataclasses.replace(
                step.check,
                run=None if step.check.run is None else self.text(step.check.run, f"{path}.check.run"),
                http=None if step.check.http is None else self._http(step.check.http, f"{path}.check.http"),
                expect=self._expect(step.check.expect, f"{path}.check.expect"),
            )
        return RenderedStep(
            step=step,
            number=number,
            section=section,
            explain=self.text(step.explain, f"{path}.explain"),
            after=self.text(step.after, f"{path}.after"),
            run=None if step.run is None else self.text(step.run, f"{path}.run"),
            variants=tuple(
                (v.label, self.text(v.run, f"{path}.variants[{i}].run")) for i, v in enumerate(step.variants)
            ),
            file=rendered_file,
            http=http,
            ready=ready,
            expect=self._expect(step.expect, f"{path}.expect"),
            check=check,
            capture=tuple(
                dataclasses.replace(c, regex=c.regex and self.text(c.regex, f"{path}.capture[{k}].regex"))
                for k, c in enumerate(step.capture)
            ),
        )

    def _http(self, http: HttpAction, path: str) -> HttpAction:
        return HttpAction(
            url=self.text(http.url, f"{path}.url"),
            method=http.method,
            headers={k: self.text(v, f"{path}.headers.{k}") for k, v in http.headers.items()},
            body=None if http.body is None else self.text(http.body, f"{path}.body"),
        )

    def _expect(self, expect: Expect, path: str) -> Expect:
        contains = tuple(self.text(t, f"{path}.contains") for t in expect.contains)
        not_contains = tuple(self.text(t, f"{path}.notContains") for t in expect.not_contains)
        output = None if expect.output is None else self.text(expect.output, f"{path}.output")
        files = tuple(self.text(t, f"{path}.files") for t in expect.files)
        written = (expect.contains, expect.not_contains, expect.output, expect.files)
        if (contains, not_contains, output, files) == written:
            return expect  # nothing to fill in (most steps): no copy
        return dataclasses.replace(
            expect, contains=contains, not_contains=not_contains, output=output, files=files
        )

    def _file(self, step: Step, path: str) -> RenderedFile | None:
        assert step.file is not None
        target = self.text(step.file.path, f"{path}.file.path")
        if not _inside(target):
            self._add(
                f"{path}.file.path",
                f"file path '{target}' leaves the working directory",
                "use a relative path without '..'; a parameter in it needs a pattern that keeps it so",
            )
            return None
        content = self.template_file(step.file.template, f"{path}.file.template")
        if content is None:
            return None
        template_path = self.guide.templates_dir / step.file.template
        is_manifest = manifests.is_manifest_path(target) and "apiVersion" in content
        if is_manifest:
            source = template_path.read_text(encoding="utf-8")
            for problem in manifests.validate_manifest_text(content, self.kubernetes_version):
                where = f"rendered {target} line {problem.line}" + (
                    f" at {problem.path}" if problem.path else ""
                )
                line = source_line(source, content, problem.line)
                self.problems.append(
                    Problem(
                        template_path,
                        line,
                        "",
                        f"invalid Kubernetes manifest ({where}): {problem.message}",
                        problem.hint,
                    )
                )
        language = step.file.language or language_of(target)
        return RenderedFile(target, content, language, template_path, is_manifest)


_EXPRESSION_ERRORS = (
    jinja2.TemplateError,
    ArithmeticError,
    ValueError,
    TypeError,
    RecursionError,
    MemoryError,
)
"""What rendering user input may raise: templates come from pull requests, so each is a mistake in
the template, reported at its line, never a traceback."""


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateError):
        return f"template error: {exc}"
    return f"template error: {type(exc).__name__}: {exc}"


def _inside(path: str) -> bool:
    """A relative path that stays inside the folder it is relative to."""
    pure = PurePosixPath(path)
    return bool(path.strip()) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path


def render_guide(
    guide: Guide,
    values: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    kubernetes_version: str = config.KUBERNETES_VERSION,
    bytecode_cache: jinja2.BytecodeCache | None = None,
) -> RenderedGuide:
    """Render every reader-visible part of a guide; raise :class:`UserError` with all problems.

    Without ``values`` the page values are used (defaults, secrets as placeholders).
    """
    if values is None:
        values = params.page_values(guide)
    # Captured values are the reader's placeholders until a run captures them (render_step).
    values = {**captures.placeholders(guide), **values}
    renderer = _Renderer(guide, values, kubernetes_version, bytecode_cache)
    number = 0
    steps = []
    for index, step in enumerate(guide.spec.steps):
        shown = None
        if not step.hidden:
            number += 1
            shown = number
        steps.append(renderer.step(step, index, "steps", shown))
    cleanup = tuple(renderer.step(s, i, "cleanup", None) for i, s in enumerate(guide.spec.cleanup))
    prerequisites = tuple(
        (
            renderer.text(p.text, f"spec.prerequisites[{i}].text"),
            None if p.command is None else renderer.text(p.command, f"spec.prerequisites[{i}].command"),
        )
        for i, p in enumerate(guide.spec.prerequisites)
    )
    stand_ins = []
    for i, stand_in in enumerate(guide.spec.stand_ins):
        port_text = renderer.text(str(stand_in.port), f"spec.standIns[{i}].port")
        try:
            port = int(port_text)
        except ValueError:
            renderer._add(
                f"spec.standIns[{i}].port",
                f"port '{port_text}' is not a number",
                "use a number or a port parameter",
            )
            port = 0
        stand_ins.append(
            RenderedStandIn(
                renderer.text(stand_in.deployment, f"spec.standIns[{i}].deployment"),
                port,
                renderer.text(stand_in.run, f"spec.standIns[{i}].run"),
            )
        )
    if renderer.problems:
        raise UserError(renderer.problems)
    return RenderedGuide(
        guide,
        values,
        dict(secrets or {}),
        prerequisites,
        tuple(steps),
        cleanup,
        tuple(stand_ins),
        kubernetes_version,
    )


def render_step(rendered: RenderedGuide, step: RenderedStep, captured: Mapping[str, str]) -> RenderedStep:
    """A step rendered again with the values earlier steps of a run captured."""
    values = {**rendered.values, **captured}
    renderer = _Renderer(rendered.guide, values, rendered.kubernetes_version)
    steps = getattr(rendered.guide.spec, step.section)
    again = renderer.step(step.step, steps.index(step.step), step.section, step.number)
    if renderer.problems:
        raise UserError(renderer.problems)
    return again


def render_all(
    guides: list[Guide], kubernetes_version: str = config.KUBERNETES_VERSION
) -> list[RenderedGuide]:
    """Render every guide with its page values, collecting the problems of all of them."""
    rendered: list[RenderedGuide] = []
    problems: list[Problem] = []
    for guide in guides:
        try:
            rendered.append(render_guide(guide, kubernetes_version=kubernetes_version))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    return rendered
