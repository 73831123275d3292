"""Turn rendered guides into the Markdown pages of the MkDocs Material site.

This is plain library code: it needs neither MkDocs nor a docs folder, so the plugin, the CLI and
tests build the same pages. The layout lives in Jinja2 templates (``page.md.j2`` and
``index.md.j2``) that a platform team can override from a folder of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from goldenpath import config
from goldenpath.errors import Problem, UserError
from goldenpath.render.jinja import jinja_env
from goldenpath.render.renderer import RenderedGuide, RenderedStep, render_guide
from goldenpath.site import page_cache, status_page
from goldenpath.site.markdown import code, issue_url, one_line
from goldenpath.site.templating import render_template, site_env
from goldenpath.spec import captures, loader
from goldenpath.spec.model import Guide, Parameter, Troubleshooting
from goldenpath.spec.urls import page_uri, relative_link
from goldenpath.status import timing
from goldenpath.status.reports import GuideReport

PAGE_TEMPLATE = "page.md.j2"
INDEX_TEMPLATE = "index.md.j2"

SECTION_TITLES: Mapping[str, str] = {"getting-started": "Getting started", "how-to": "How-to guides"}
"""Default nav titles of the two guide sections, keyed by guide type (= folder on the site)."""
TYPE_TITLES: Mapping[str, str] = {"getting-started": "Getting started", "how-to": "How-to guide"}


@dataclass(frozen=True)
class Page:
    """One generated Markdown page, with the metadata the site sets on it."""

    src_uri: str
    """Path of the page on the site, e.g. ``getting-started/hello-world.md``."""
    title: str
    description: str
    tags: tuple[str, ...]
    markdown: str
    guide_id: str | None = None
    """The guide the page shows; None for index pages."""
    stage: str | None = None
    """The guide's stage in the activity model; None for index pages."""


@dataclass(frozen=True)
class ParameterRow:
    name: str
    default: str
    """The value the page uses; a placeholder such as ``<token>`` for secrets."""
    description: str
    allowed: str
    """Allowed values as Markdown (choices, pattern or type)."""
    secret: bool
    env: str


@dataclass(frozen=True)
class NextLink:
    title: str
    href: str
    text: str


def _spec_path(guide: Guide) -> str:
    parts = guide.source.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(guide.source)


def _render_troubleshooting(rendered: RenderedGuide) -> list[Troubleshooting]:
    """Troubleshooting entries with parameters filled in, like every other text on the page."""
    guide = rendered.guide
    env = jinja_env()
    entries = []
    problems = []
    for index, entry in enumerate(guide.spec.troubleshooting):
        texts = {}
        for name in ("problem", "fix"):
            source = getattr(entry, name)
            texts[name] = source
            if "{" not in source:
                continue
            path = f"spec.troubleshooting[{index}].{name}"
            try:
                texts[name] = env.from_string(source).render(rendered.values)
            except jinja2.TemplateError as exc:
                message = getattr(exc, "message", None) or str(exc)
                problems.append(
                    Problem(
                        guide.source,
                        guide.line_of(path),
                        path,
                        f"template error: {message}",
                        "declare the variable under spec.parameters or fix the {{ }} expression",
                    )
                )
        entries.append(dataclasses.replace(entry, **texts))
    if problems:
        raise UserError(problems)
    return entries


def _allowed(param: Parameter) -> str:
    if param.choices:
        return ", ".join(code(c) for c in param.choices)
    if param.pattern:
        return f"matches {code(param.pattern)}"
    if param.type == "port":
        return "a free TCP port (1-65535)"
    return param.type


def _default_text(param: Parameter, values: Mapping[str, Any]) -> str:
    value = values.get(param.name, param.default)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class PageBuilder:
    """Renders pages with one Jinja2 environment; templates in ``template_dir`` win."""

    def __init__(
        self,
        *,
        template_dir: Path | None = None,
        repo_url: str = "",
        section_titles: Mapping[str, str] | None = None,
    ) -> None:
        self.repo_url = repo_url.rstrip("/")
        self.section_titles = {**SECTION_TITLES, **(section_titles or {})}
        self.env = site_env(template_dir)
        self.template_dir = template_dir

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        return render_template(self.env, name, context)

    def guide_page(
        self,
        rendered: RenderedGuide,
        links: Mapping[str, tuple[str, str]] | None = None,
        status: GuideReport | None = None,
    ) -> Page:
        """The page of one guide. ``links`` maps guide ids to (page uri, title) for next steps."""
        guide = rendered.guide
        uri = page_uri(guide)
        links = links or {}
        troubleshooting = _render_troubleshooting(rendered)
        trouble: dict[str, list[Troubleshooting]] = {}
        for entry in troubleshooting:
            if entry.step is not None:
                trouble.setdefault(entry.step, []).append(entry)
        visible = [s for s in rendered.steps if s.number is not None]
        cleanup = [s for s in rendered.cleanup if not s.step.hidden]
        anchors = {s.id: f"step {s.number}: {one_line(s.title)}" for s in visible}
        anchors.update({s.id: f"clean-up step {one_line(s.title)}" for s in cleanup})
        captured = captures.captures(guide)
        origins = {
            name: anchors.get(step.id, "a setup step checks run") for name, (_, step) in captured.items()
        }
        uses = {
            s.id: [(captured[n][0], origins[n]) for n in captures.uses(s.step, list(captured))]
            for s in rendered.steps + rendered.cleanup
        }
        context = {
            "guide": guide,
            "meta": guide.metadata,
            "rendered": rendered,
            # The guide's status report, when the site has one.
            "status": status,
            # Rendered on use from banner.md.j2 and failure-note.md.j2, so overrides can replace them.
            "banner": lambda report: status_page.banner(self.env, report, troubleshooting),
            "failure_note": lambda report: status_page.failure_note(self.env, report),
            # Reading plus command time; from the guide alone when the site has no run history.
            "estimated_time": getattr(status, "estimated_time", None) or timing.expected_time(guide),
            "failed_step": getattr(status, "failed_step_id", None),
            "type_title": TYPE_TITLES.get(guide.spec.type, guide.spec.type),
            "steps": visible,
            "hidden_count": len(rendered.steps) - len(visible),
            "cleanup": cleanup,
            "troubleshooting": troubleshooting,
            "troubleshooting_for": trouble,
            "anchors": anchors,
            # Per step id: the captured values it uses, as (capture, where the reader finds it).
            "captured_values": uses,
            "bite_checked": sum(s.check is not None for s in visible),
            "parameters": [
                ParameterRow(
                    p.name, _default_text(p, rendered.values), p.description, _allowed(p), p.secret, p.env_var
                )
                for p in guide.spec.parameters
            ],
            "next_steps": self._next_links(guide, uri, links),
            "report_url": self._reporter(rendered),
        }
        markdown = self._render(PAGE_TEMPLATE, context)
        tags = tuple(dict.fromkeys((guide.metadata.stage, *guide.metadata.tags)))
        return Page(
            uri,
            guide.metadata.title,
            one_line(guide.metadata.summary),
            tags,
            markdown,
            guide.id,
            guide.metadata.stage,
        )

    def index_page(self, guide_type: str, guides: Sequence[Guide]) -> Page:
        """The index page of a section (``getting-started`` or ``how-to``)."""
        uri = f"{guide_type}/index.md"
        title = self.section_titles.get(guide_type, guide_type)
        entries = [
            {"guide": g, "href": relative_link(uri, page_uri(g))}
            for g in sorted(guides, key=lambda g: g.metadata.title.lower())
        ]
        markdown = self._render(
            INDEX_TEMPLATE, {"title": title, "guide_type": guide_type, "entries": entries}
        )
        return Page(
            uri,
            title,
            f"{title}: every {TYPE_TITLES.get(guide_type, guide_type).lower()} on the platform.",
            (),
            markdown,
        )

    def _next_links(self, guide: Guide, uri: str, links: Mapping[str, tuple[str, str]]) -> list[NextLink]:
        result = []
        for nxt in guide.spec.next_steps:
            if nxt.guide is not None:
                target, title = links.get(nxt.guide, (f"{nxt.guide}.md", nxt.guide))
                result.append(NextLink(nxt.title or title, relative_link(uri, target), nxt.text))
            elif nxt.url is not None:
                result.append(NextLink(nxt.title or nxt.url, nxt.url, nxt.text))
        return result

    def _reporter(self, rendered: RenderedGuide) -> Callable[..., str]:
        guide = rendered.guide
        spec_path = _spec_path(guide)

        def report_url(step: RenderedStep | None = None) -> str:
            if not self.repo_url:
                return ""
            if step is None:
                title = f"[{guide.id}] Problem with the guide"
                where = f"Spec: `{spec_path}`"
            else:
                label = f"{step.number}. {step.title}" if step.number else step.title
                title = f"[{guide.id}] Problem with step '{step.id}'"
                where = f"Step: `{step.id}` ({label})\nSpec: `{spec_path}` line {step.step.line}"
            body = (
                f"Guide: `{guide.id}` ({guide.metadata.title})\n{where}\n\n"
                "What happened:\n\n\nWhat I expected:\n\n\nWhat I ran (commands and output):\n"
            )
            return issue_url(self.repo_url, title, body)

        return report_url


def build_pages(
    rendered: Sequence[RenderedGuide],
    *,
    template_dir: Path | None = None,
    repo_url: str = "",
    section_titles: Mapping[str, str] | None = None,
    statuses: Mapping[str, GuideReport] | None = None,
    cache: page_cache.PageCache | None = None,
    rendered_key: str = "",
) -> list[Page]:
    """Every page of the guides: one per guide and an index per section.

    With a ``cache`` (and the ``rendered_key`` the guides were rendered under), a guide page
    whose inputs did not change since the last build is taken from it.
    """
    builder = PageBuilder(template_dir=template_dir, repo_url=repo_url, section_titles=section_titles)
    links = {r.id: (page_uri(r.guide), r.guide.metadata.title) for r in rendered}
    statuses = statuses or {}
    if cache is None or not rendered_key:
        pages = [builder.guide_page(r, links, statuses.get(r.id)) for r in rendered]
    else:
        settings_key = page_cache.value_key(
            rendered_key,
            page_cache.links_key(links),
            page_cache.folder_key(template_dir) if template_dir else "",
            repo_url,
            tuple(sorted(builder.section_titles.items())),
        )
        pages = []
        for r in rendered:
            status = statuses.get(r.id)
            key = page_cache.value_key(settings_key, r.id, _report_key(status))
            page = cache.page(r.id, key)
            if not isinstance(page, Page):
                page = builder.guide_page(r, links, status)
                cache.store_page(r.id, key, page)
            pages.append(page)
    for guide_type in SECTION_TITLES:
        pages.append(
            builder.index_page(guide_type, [r.guide for r in rendered if r.guide.spec.type == guide_type])
        )
    return pages


def load_pages(
    golden_paths: Path,
    *,
    kubernetes_version: str = config.KUBERNETES_VERSION,
    template_dir: Path | None = None,
    repo_url: str = "",
    section_titles: Mapping[str, str] | None = None,
    statuses: Mapping[str, GuideReport]
    | Callable[[Sequence[Guide]], Mapping[str, GuideReport]]
    | None = None,
    cache_dir: Path | None = None,
) -> list[Page]:
    """Load, validate and render every guide under ``golden_paths`` into pages.

    ``cache_dir`` keeps compiled templates between builds.

    ``statuses`` maps guide ids to their status reports, or is a function that returns them
    for the loaded guides. Raises :class:`UserError` with the problems of every guide.
    """
    cache = page_cache.PageCache(cache_dir / "site" if cache_dir is not None else None)
    key = ""
    if cache_dir is not None:
        key = page_cache.folder_key(
            golden_paths, str(golden_paths.resolve()), kubernetes_version, page_cache.code_key()
        )
    rendered = cache.rendered(key) if key else None
    if not isinstance(rendered, list):
        rendered = _render_all(golden_paths, kubernetes_version, cache_dir)
        if key:
            cache.store_rendered(key, rendered)
    if callable(statuses):
        statuses = statuses([r.guide for r in rendered])
    return build_pages(
        rendered,
        template_dir=template_dir,
        repo_url=repo_url,
        section_titles=section_titles,
        statuses=statuses,
        cache=cache,
        rendered_key=key,
    )


def _render_all(golden_paths: Path, kubernetes_version: str, cache_dir: Path | None) -> list[RenderedGuide]:
    """Load and render every guide; raise :class:`UserError` with the problems of all of them."""
    guides, problems = loader.collect_guides(golden_paths)
    bytecode_cache = None
    if cache_dir is not None:
        with contextlib.suppress(OSError):  # no cache is only slower
            (cache_dir / "jinja").mkdir(parents=True, exist_ok=True)
            bytecode_cache = jinja2.FileSystemBytecodeCache(str(cache_dir / "jinja"))
    rendered: list[RenderedGuide] = []
    for guide in guides:
        try:
            rendered.append(
                render_guide(guide, kubernetes_version=kubernetes_version, bytecode_cache=bytecode_cache)
            )
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    return rendered


def _report_key(report: GuideReport | None) -> str:
    """What a page shows of a status report: the history's figures, and the day (pages count
    days); the guide itself is in the rendered guides' key."""
    if report is None:
        return ""
    return page_cache.value_key(
        report.status,
        tuple(sorted(report.durations.items())),
        report.pass_steps,
        report.run_times,
        report.now.date(),
    )
