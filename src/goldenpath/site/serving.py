"""``mkdocs serve`` with a broken spec: the last good pages stay, the problems show on every page.

``build`` fails on a bad spec (strict, as CI needs). While serving, a spec is broken for a moment
at many saves; a failed rebuild would leave MkDocs' server holding every request until the next
good one (or end it, on the first build). So in serve mode the plugin keeps the guide pages of
the last build that loaded, prints the problems in the terminal, and puts them, the same lines
``goldenpath lint`` prints, in a banner at the top of every page until they are fixed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

BANNER_ID = "goldenpath-spec-errors"
"""The banner's HTML id, for tests and for styling."""


def banner(lines: Sequence[str], have_last_good: bool) -> str:
    """The HTML of the banner listing ``lines`` (``error: file:line: ...``)."""
    count = len(lines)
    shown = (
        "the guide pages are the last good ones"
        if have_last_good
        else "the guide pages are missing until it loads"
    )
    body = "\n".join(html.escape(line, quote=False) for line in lines)
    return (
        f'<div class="admonition failure" id="{BANNER_ID}" role="alert">\n'
        f'<p class="admonition-title">The golden paths do not load ({count} problem(s)): {shown}</p>\n'
        f"<pre><code>{body}</code></pre>\n"
        "<p>These are the lines <code>goldenpath lint</code> prints. Fix the spec and save: the site "
        "rebuilds and this banner goes away.</p>\n"
        "</div>\n"
    )


def terminal_message(head: str, lines: Sequence[str], have_last_good: bool) -> str:
    """The terminal's error: a head line, the problem lines, then what is served meanwhile."""
    meanwhile = "the last good guide pages" if have_last_good else "the site without guide pages"
    body = "\n".join(lines)
    return f"{head}\n{body}\nserving {meanwhile}, with these problems on every page, until they are fixed"
