"""The site's template environment: packaged page templates, a team's overrides, Markdown filters.

Every piece of Markdown and CSS the site generates (guide pages, section indexes, status banners,
the status page and its stylesheet) is a Jinja2 template in ``templates/``. A platform team
overrides any of them from a folder of its own (``page_template_dir``); an override reaches the
packaged template as ``goldenpath/<name>`` to extend it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from goldenpath.errors import Problem, UserError
from goldenpath.render.jinja import jinja_env
from goldenpath.site.markdown import cell, code, fence, http_request, one_line
from goldenpath.status.freshness import sandbox_label
from goldenpath.status.history import RunRecord

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_PREFIX = "goldenpath"
"""Override templates reach the packaged ones as ``goldenpath/<name>`` to extend them."""


def ago(days: int) -> str:
    """``today``, ``1 day ago``, ``12 days ago``."""
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def when(moment: datetime.datetime) -> str:
    """A moment as a reader anywhere reads it: ``2026-11-23 18:30 UTC``."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def utc_date(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).date().isoformat()


def versions(run: RunRecord) -> str:
    """What a run ran on: ``os Linux 6.1, bash 5.2.15, kubernetes v1.33.13``."""
    return ", ".join(f"{k} {v}" for k, v in run.sandbox_versions.items()) or "versions not recorded"


def site_env(template_dir: Path | None = None) -> jinja2.Environment:
    """The environment for the site's templates; templates in ``template_dir`` win."""
    package = jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders += [package, jinja2.PrefixLoader({TEMPLATE_PREFIX: package})]
    env = jinja_env(jinja2.ChoiceLoader(loaders))
    # Markdown is whitespace-sensitive: block tags must not leave stray blank lines or spaces.
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        fence=fence,
        code=code,
        cell=cell,
        one_line=one_line,
        http_request=http_request,
        ago=ago,
        when=when,
        utc_date=utc_date,
        versions=versions,
        sandbox_label=sandbox_label,
    )
    return env


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one site template; a broken template (or override) is bad input, never a traceback."""
    try:
        template = env.get_template(name)
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
