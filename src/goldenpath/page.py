"""Turn rendered guides into the Markdown pages of the MkDocs Material site.

This is plain library code: it needs neither MkDocs nor a docs folder, so the plugin, the CLI and
tests build the same pages. The layout lives in Jinja2 templates (``page.md.j2`` and
``index.md.j2``) that a platform team can override from a folder of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import yaml

from goldenpath import manifests, spec
from goldenpath.errors import Problem, UserError
from goldenpath.model import Guide, HttpAction, Parameter, Troubleshooting
from goldenpath.render import RenderedGuide, RenderedStep, jinja_env, render_guide

PAGE_TEMPLATE = "page.md.j2"
INDEX_TEMPLATE = "index.md.j2"
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_PREFIX = "goldenpath"
"""Override templates reach the packaged ones as ``goldenpath/<name>`` to extend them."""

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


def page_uri(guide: Guide) -> str:
    """Where a guide's page lives on the site: ``<type>/<id>.md``."""
    return f"{guide.spec.type}/{guide.id}.md"


def relative_link(from_uri: str, to_uri: str) -> str:
    """A relative Markdown link between two pages of the site, as MkDocs resolves them."""
    return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")


def fence(content: str, language: str = "", title: str | None = None) -> str:
    """A fenced code block holding ``content`` unchanged; the fence outgrows any backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    ticks = "`" * max(3, longest + 1)
    info = language or "text"
    if title:
        info += f' title="{one_line(title).replace(chr(34), chr(39))}"'
    body = content if content.endswith("\n") else content + "\n"
    return f"{ticks}{info}\n{body}{ticks}"


def code(text: Any) -> str:
    """An inline code span for any text, even text holding backticks."""
    value = one_line(str(text))
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def one_line(text: str) -> str:
    """Text for places that take a single line: headings, titles, table cells."""
    return " ".join(text.split())


def cell(text: str) -> str:
    """Markdown text made safe for one table cell."""
    return one_line(text).replace("|", "\\|")


def http_request(http: HttpAction) -> str:
    """An HTTP request as text: request line, headers, blank line, body."""
    lines = [f"{http.method} {http.url}", *(f"{k}: {v}" for k, v in http.headers.items())]
    if http.body is not None:
        lines += ["", http.body.rstrip("\n")]
    return "\n".join(lines)


def issue_url(repo_url: str, title: str, body: str) -> str:
    """A link that opens a new GitHub issue pre-filled with a title and body."""
    query = urlencode({"title": title, "body": body}, quote_via=quote)
    return f"{repo_url.rstrip('/')}/issues/new?{query}"


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
        package = jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))
        loaders: list[jinja2.BaseLoader] = []
        if template_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(template_dir)))
        loaders += [package, jinja2.PrefixLoader({TEMPLATE_PREFIX: package})]
        self.env = jinja_env(jinja2.ChoiceLoader(loaders))
        # Markdown is whitespace-sensitive: block tags must not leave stray blank lines or spaces.
        self.env.trim_blocks = True
        self.env.lstrip_blocks = True
        self.env.filters.update(
            fence=fence, code=code, cell=cell, one_line=one_line, http_request=http_request
        )
        self.template_dir = template_dir

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(
                [
                    Problem(
                        exc.filename or name,
                        exc.lineno,
                        "",
                        f"page template syntax error: {exc.message}",
                        "check the {{ }} and {% %} tags",
                    )
                ]
            ) from exc

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._template(name)
        try:
            return template.render(context)
        except jinja2.TemplateError as exc:
            raise UserError(
                [
                    Problem(
                        template.filename or name,
                        None,
                        "",
                        f"page template error: {exc}",
                        "fix the page template or remove the override",
                    )
                ]
            ) from exc

    def guide_page(
        self,
        rendered: RenderedGuide,
        links: Mapping[str, tuple[str, str]] | None = None,
        status: Any = None,
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
        context = {
            "guide": guide,
            "meta": guide.metadata,
            "rendered": rendered,
            "status": status,
            # From a status report (goldenpath.status.GuideReport), when the site has one.
            "estimated_time": getattr(status, "estimated_time", None),
            "failed_step": getattr(status, "failed_step_id", None),
            "type_title": TYPE_TITLES.get(guide.spec.type, guide.spec.type),
            "steps": visible,
            "hidden_count": len(rendered.steps) - len(visible),
            "cleanup": cleanup,
            "troubleshooting": troubleshooting,
            "troubleshooting_for": trouble,
            "anchors": anchors,
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
        return Page(uri, guide.metadata.title, one_line(guide.metadata.summary), tags, markdown, guide.id)

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
    statuses: Mapping[str, Any] | None = None,
) -> list[Page]:
    """Every page of the guides: one per guide and an index per section."""
    builder = PageBuilder(template_dir=template_dir, repo_url=repo_url, section_titles=section_titles)
    links = {r.id: (page_uri(r.guide), r.guide.metadata.title) for r in rendered}
    pages = [builder.guide_page(r, links, (statuses or {}).get(r.id)) for r in rendered]
    for guide_type in SECTION_TITLES:
        pages.append(
            builder.index_page(guide_type, [r.guide for r in rendered if r.guide.spec.type == guide_type])
        )
    return pages


def load_pages(
    golden_paths: Path,
    *,
    kubernetes_version: str = manifests.DEFAULT_KUBERNETES_VERSION,
    template_dir: Path | None = None,
    repo_url: str = "",
    section_titles: Mapping[str, str] | None = None,
    statuses: Mapping[str, Any] | Callable[[Sequence[Guide]], Mapping[str, Any]] | None = None,
    cache_dir: Path | None = None,
) -> list[Page]:
    """Load, validate and render every guide under ``golden_paths`` into pages.

    ``cache_dir`` keeps compiled templates between builds.

    ``statuses`` maps guide ids to their status reports, or is a function that returns them
    for the loaded guides. Raises :class:`UserError` with the problems of every guide.
    """
    guides, problems = spec.collect_guides(golden_paths)
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
    if callable(statuses):
        statuses = statuses([r.guide for r in rendered])
    return build_pages(
        rendered,
        template_dir=template_dir,
        repo_url=repo_url,
        section_titles=section_titles,
        statuses=statuses,
    )


def front_matter(page: Page, status: str | None = None) -> str:
    """The page's metadata as YAML front matter, for generators that read it from the file."""
    meta: dict[str, Any] = {"title": page.title, "description": page.description}
    if page.tags:
        meta["tags"] = list(page.tags)
    if status:
        meta["status"] = status
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def write_pages(pages: Sequence[Page], docs_dir: Path, *, with_front_matter: bool = True) -> list[Path]:
    """Write pages as Markdown files under ``docs_dir``, for builds without the MkDocs plugin."""
    written = []
    for page in pages:
        target = docs_dir / page.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (front_matter(page) if with_front_matter else "") + page.markdown
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
