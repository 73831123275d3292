"""Markdown building blocks for generated pages: code spans and fences that survive any content."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from goldenpath.spec.model import HttpAction


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
