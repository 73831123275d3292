"""Where a guide's page lives on the site, for pages, reports and status links alike."""

from __future__ import annotations

import posixpath

from goldenpath.spec.model import Guide


def page_uri(guide: Guide) -> str:
    """The page's Markdown source on the site: ``<type>/<id>.md``."""
    return f"{guide.spec.type}/{guide.id}.md"


def page_path(guide: Guide) -> str:
    """The guide's page, relative to the site root."""
    return f"{guide.spec.type}/{guide.id}/"


def page_url(guide: Guide, site_url: str, step_id: str | None = None) -> str:
    """The guide's page URL (relative without a site URL), with the step's anchor."""
    base = site_url.rstrip("/") + "/" if site_url else ""
    return base + page_path(guide) + (f"#step-{step_id}" if step_id else "")


def relative_link(from_uri: str, to_uri: str) -> str:
    """A relative Markdown link between two pages of the site, as MkDocs resolves them."""
    return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")
