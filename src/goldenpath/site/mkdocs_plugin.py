"""The MkDocs plugin ``goldenpath``: every golden path becomes a page of the site.

The plugin only wires MkDocs events to the library: :mod:`.page` builds the pages,
:mod:`.reference` and :mod:`goldenpath.spec.schema` the spec reference. Pages are generated
in memory with ``File.generated``; nothing is written into ``docs/``, so ``mkdocs serve`` never
rebuilds in a loop. While serving, a broken spec does not fail the build (see :mod:`.serving`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page as MkDocsPage

from goldenpath import config as settings_module
from goldenpath.errors import Problem, SandboxError, UserError
from goldenpath.site import navigation, serving, status_page
from goldenpath.site.build import GOLDEN_PATHS_ENV
from goldenpath.site.page import SECTION_TITLES, Page, load_pages
from goldenpath.site.reference import (
    LINT_RULES_PAGE,
    REFERENCE_PAGE,
    reference_markdown,
    rules_markdown,
    schema_tokens,
)
from goldenpath.site.templating import site_env
from goldenpath.spec.model import Guide
from goldenpath.spec.schema import SCHEMA_FILE, SCHEMA_PATH, guide_ids, json_schema
from goldenpath.status.reports import GuideReport, collect_reports
from goldenpath.status.reports import to_json as reports_json

log = logging.getLogger("mkdocs.plugins.goldenpath")


class GoldenPathConfig(base.Config):  # type: ignore[no-untyped-call]
    golden_paths = c.Optional(c.Type(str))
    """Folder of golden paths, relative to mkdocs.yml (default: [tool.goldenpath] golden_paths);
    $GOLDENPATH_GOLDEN_PATHS (``--golden-paths DIR``), relative to the cwd, wins over both."""
    repo_url = c.Optional(c.Type(str))
    """Repository for "report a problem" links (default: [tool.goldenpath] or MkDocs repo_url)."""
    page_template_dir = c.Optional(c.Type(str))
    """Folder with page.md.j2 / index.md.j2 overrides, relative to mkdocs.yml."""
    nav_section = c.Type(dict, default={})
    """Nav titles of the guide sections by guide type, e.g. {how-to: Recipes}."""
    nav_group_size = c.Type(int, default=40)
    """A guide section with more guides is grouped by stage in the nav (0: never)."""
    reference = c.Type(bool, default=True)
    """Publish the spec reference page and the JSON Schema under reference/."""
    status_page = c.Type(str, default=status_page.STATUS_PAGE)
    """Page listing every guide's status (and status.json beside the site root); "" for none."""


def _relative(problems: list[Problem]) -> list[Problem]:
    """The problems with their files relative to the current directory, where below it."""
    cwd = Path.cwd()
    found = []
    for problem in problems:
        file = Path(problem.file)
        if file.is_absolute() and file.is_relative_to(cwd):
            problem = Problem(
                file.relative_to(cwd), problem.line, problem.path, problem.message, problem.hint
            )
        found.append(problem)
    return found


def _problem_lines(problems: list[Problem]) -> str:
    return "\n".join(str(problem) for problem in _relative(problems))


def plugin_error(exc: UserError) -> PluginError:
    """A build error that MkDocs prints as plain lines, one per problem, without a traceback."""
    count = len(exc.problems)
    head = f"goldenpath: {count} problem(s) in the golden paths:" if count else "goldenpath:"
    body = _problem_lines(exc.problems) if exc.problems else str(exc)
    return PluginError(f"{head}\n{body}")


class GoldenPathPlugin(BasePlugin[GoldenPathConfig]):  # type: ignore[no-untyped-call]
    """Generates a page per golden path, section indexes, the spec reference and the schema."""

    def __init__(self) -> None:
        # Until on_config reads the project's settings, the defaults are the settings' own.
        self.settings = settings_module.Settings()
        self.golden_paths = self.settings.golden_paths
        self.template_dir: Path | None = None
        self.repo_url = self.settings.repo_url
        self.section_titles: dict[str, str] = dict(SECTION_TITLES)
        self.pages: dict[str, Page] = {}
        self.kubernetes_version = self.settings.kubernetes_version
        self.reports: list[GuideReport] = []
        self.report_by_id: dict[str, GuideReport] = {}
        self.serving = False
        """``mkdocs serve``: a broken spec keeps the last good pages instead of failing the build."""
        self.last_good: list[Page] | None = None
        self.spec_errors: list[str] = []
        """The problem lines of the current build (serve mode only; a build fails instead)."""

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # MkDocs keeps a plugin with on_startup for every rebuild of one serve.
        self.serving = command == "serve"
        self.last_good = None
        self.spec_errors = []

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        root = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        try:
            settings = settings_module.load_settings(root)
        except UserError as exc:
            raise plugin_error(exc) from None
        option = self.config.golden_paths
        override = os.environ.get(GOLDEN_PATHS_ENV)
        if override:
            self.golden_paths = Path(override).resolve()
        else:
            self.golden_paths = (root / option) if option else settings.golden_paths_dir
        settings = dataclasses.replace(settings, golden_paths=self.golden_paths)
        template_dir = self.config.page_template_dir
        self.template_dir = root / template_dir if template_dir else None
        self.repo_url = self.config.repo_url or settings.repo_url or config.repo_url or ""
        self.kubernetes_version = settings.kubernetes_version
        self.settings = settings
        _configure_statuses(config)
        unknown = sorted(set(self.config.nav_section) - set(SECTION_TITLES))
        if unknown:
            raise PluginError(
                f"goldenpath: nav_section: unknown guide type(s) {', '.join(unknown)} "
                f"(use {', '.join(SECTION_TITLES)})"
            )
        self.section_titles = {**SECTION_TITLES, **{k: str(v) for k, v in self.config.nav_section.items()}}
        return config

    def build_pages(self) -> list[Page]:
        """The generated pages, through the library; MkDocs-independent.

        A spec problem fails the build, except while serving: then the last good pages stay,
        and :attr:`spec_errors` holds the lines the banner shows.
        """
        try:
            pages = load_pages(
                self.golden_paths,
                kubernetes_version=self.kubernetes_version,
                template_dir=self.template_dir,
                repo_url=self.repo_url,
                section_titles=self.section_titles,
                statuses=self._statuses,
                cache_dir=self.settings.path(Path(".goldenpath") / "cache"),
            )
        except UserError as exc:
            if not self.serving:
                raise plugin_error(exc) from None
            self.spec_errors = self._lint_lines(exc)
            log.error(
                "%s",
                serving.terminal_message(
                    f"goldenpath: {len(self.spec_errors)} problem(s) in the golden paths:",
                    self.spec_errors,
                    self.last_good is not None,
                ),
            )
            return list(self.last_good or [])
        self.spec_errors = []
        self.last_good = pages
        return pages

    def _lint_lines(self, exc: UserError) -> list[str]:
        """The lines ``goldenpath lint`` prints for the problems that failed the pages (its
        problems, without the ones that follow from them), paths relative to the cwd."""
        from goldenpath.lint.report import error_lines, spec_problems  # only for a broken spec

        _, problems = spec_problems(self.golden_paths, self.kubernetes_version)
        return error_lines(_relative(problems or exc.problems))

    def _statuses(self, guides: Sequence[Guide]) -> Mapping[str, GuideReport]:
        """Each guide's status from the run history; every guide unverified without one."""
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            self.reports = collect_reports(self.settings, guides, now=now)
        except SandboxError as exc:
            log.warning("goldenpath: %s; every guide is shown as unverified", exc)
            self.reports = collect_reports(self.settings, guides, now=now, use_history=False)
        self.report_by_id = {report.id: report for report in self.reports}
        return self.report_by_id

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        for uri, content in self.generated_files().items():
            existing = files.get_file_from_path(uri)
            if existing is not None:
                log.warning("'%s' in docs is replaced by the page goldenpath generates", uri)
                files.remove(existing)
            files.append(File.generated(config, uri, content=content))
        return files

    def generated_files(self) -> dict[str, str]:
        """Every file the plugin adds to the site (path in the site -> content), after on_config."""
        generated: dict[str, str] = {}
        self.pages = {}
        for page in self.build_pages():
            self.pages[page.src_uri] = page
            generated[page.src_uri] = page.markdown
        if self.config.reference:
            schema_link = SCHEMA_FILE
            generated[REFERENCE_PAGE] = reference_markdown(schema_link)
            generated[LINT_RULES_PAGE] = rules_markdown()
            schema = json_schema(self.settings.site_url, guide_ids(self.golden_paths))
            generated[SCHEMA_PATH] = json.dumps(schema, indent=2) + "\n"  # where its $id points
        env = site_env(self.template_dir)
        generated[status_page.STATUS_CSS] = status_page.stylesheet(env)
        if self.config.status_page:
            json_uri = posixpath.join(posixpath.dirname(self.config.status_page), status_page.STATUS_JSON)
            generated[self.config.status_page] = status_page.status_page(
                env, self.reports, self.settings, self.config.status_page, json_uri
            )
            generated[json_uri] = reports_json(self.reports)
        return generated

    def on_nav(self, nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation | None:
        """Title the guide sections; add them when an explicit nav leaves them out."""
        by_type: dict[str, list[MkDocsPage]] = {}
        for uri in sorted(self.pages):
            guide_type = uri.split("/", 1)[0]
            file = files.get_file_from_path(uri)
            if file is not None and file.page is not None:
                pages = by_type.setdefault(guide_type, [])
                if uri.endswith("/index.md"):
                    pages.insert(0, file.page)
                else:
                    pages.append(file.page)
        in_nav = {id(p) for p in nav.pages}
        added = False
        status_file = files.get_file_from_path(self.config.status_page) if self.config.status_page else None
        if (
            config.nav
            and status_file is not None
            and status_file.page is not None
            and id(status_file.page) not in in_nav
        ):
            nav.items.append(status_file.page)
            nav.pages.append(status_file.page)
            added = True
        stages = {uri: page.stage or "" for uri, page in self.pages.items() if page.guide_id}
        titles = {uri: page.title for uri, page in self.pages.items() if page.guide_id}
        for guide_type, pages in by_type.items():
            title = self.section_titles.get(guide_type, guide_type)
            section = navigation.find_section(nav.items, f"{guide_type}/index.md")
            if section is not None:
                section.title = title
            elif not any(id(p) in in_nav for p in pages):
                section = Section(title, list(pages))
                for page in pages:
                    page.parent = section
                nav.items.append(section)
                nav.pages.extend(pages)
                added = True
            if section is not None and navigation.group_section(
                section, stages, titles, self.config.nav_group_size
            ):
                added = True
        if not config.nav:
            # Auto nav lists top-level pages before folders; guides come right after the home page.
            first = [self.section_titles[t] for t in SECTION_TITLES]
            nav.items.sort(
                key=lambda item: (
                    not getattr(item, "is_homepage", False),
                    first.index(item.title) if item.title in first else len(first),
                )
            )
            added = True
        if added:
            navigation.reorder(nav)
        return nav

    @event_priority(50)  # before the tags plugin reads page.meta
    def on_page_markdown(
        self, markdown: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str | None:
        generated = self.pages.get(page.file.src_uri)
        if generated is None:  # a hand-written page: the schema's address filled in
            return schema_tokens(markdown, self.settings.site_url)
        page.meta.setdefault("title", generated.title)
        page.meta.setdefault("description", generated.description)
        if generated.tags:
            page.meta.setdefault("tags", list(generated.tags))
        report = self.report_by_id.get(generated.guide_id or "")
        if report is not None:
            page.meta["status"] = report.state
        return markdown

    def on_page_content(
        self, html: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.spec_errors:
            return serving.banner(self.spec_errors, self.last_good is not None) + html
        return html

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Callable[..., Any]
    ) -> LiveReloadServer | None:
        # Specs and templates live outside docs/: watch them so edits reload the site.
        if self.golden_paths.is_dir():
            server.watch(str(self.golden_paths))
        if self.template_dir is not None and self.template_dir.is_dir():
            server.watch(str(self.template_dir))
        return server


def _configure_statuses(config: MkDocsConfig) -> None:
    """Material's page status tooltips, the status stylesheet and the Markdown the banners need."""
    descriptions = config.extra.get("status")
    if not isinstance(descriptions, dict):
        descriptions = {}
        config.extra["status"] = descriptions
    for state, text in status_page.DESCRIPTIONS.items():
        descriptions.setdefault(state, text)
    if status_page.STATUS_CSS not in config.extra_css:
        config.extra_css.append(status_page.STATUS_CSS)
    for extension in ("admonition", "md_in_html"):
        if extension not in config.markdown_extensions:
            config.markdown_extensions.append(extension)
