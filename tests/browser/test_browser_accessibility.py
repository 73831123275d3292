"""Accessibility basics of every guide page, in the browser: what assistive technology relies on.

- Headings: one ``h1``, first; going down, no level is skipped (``h2`` then ``h4`` is an error).
- Images: every ``img`` has a text alternative (``alt``), unless it is marked decorative.
- Code blocks are labelled: a block says what it is, either with a title bar (a file's path,
  "You should see") or with its language (``language-bash`` for commands, ``language-http``...);
  an untitled plain-text block is not labelled. Every copy button has an accessible name.
- The page declares its language and has one ``main`` landmark.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from test_browser_reader import GUIDES, page_url

pytestmark = pytest.mark.browser

PAGES = ["", "getting-started/", "how-to/", *sorted(page_url(g) for g in GUIDES.values())]

AUDIT_JS = """
() => {
  const article = document.querySelector('main article') || document.querySelector('main');
  const headings = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((h) => ({level: Number(h.tagName[1]), text: h.textContent.replace('\\u00b6', '').trim(),
                  id: h.id}));
  const images = [...document.querySelectorAll('img')]
    .filter((img) => img.getAttribute('aria-hidden') !== 'true'
                     && !['presentation', 'none'].includes(img.getAttribute('role')))
    .filter((img) => !(img.getAttribute('alt') || '').trim())
    .map((img) => img.getAttribute('src'));
  const blocks = [...article.querySelectorAll('div.highlight')].map((b) => {
    const title = (b.querySelector('.filename')?.textContent || '').trim();
    const language = [...b.classList].find((c) => c.startsWith('language-'))?.slice(9) || '';
    const code = b.querySelector('pre > code')?.textContent || '';
    return {title, language, code: code.slice(0, 60)};
  });
  const buttons = [...article.querySelectorAll('pre button')]
    .filter((btn) => !(btn.getAttribute('title') || btn.getAttribute('aria-label') || '').trim())
    .map((btn) => btn.outerHTML.slice(0, 80));
  return {
    lang: document.documentElement.getAttribute('lang'),
    mains: document.querySelectorAll('main').length,
    headings, images, blocks, buttons,
  };
}
"""


def heading_problems(headings: list[dict[str, Any]]) -> list[str]:
    problems = []
    if not headings or headings[0]["level"] != 1:
        problems.append(f"the first heading is not an h1: {headings[:1]}")
    if sum(h["level"] == 1 for h in headings) != 1:
        problems.append("the page has more than one h1")
    for before, after in itertools.pairwise(headings):
        if after["level"] > before["level"] + 1:
            problems.append(
                f"h{before['level']} {before['text']!r} is followed by "
                f"h{after['level']} {after['text']!r}: a level is skipped"
            )
    return problems


def test_heading_check_catches_a_skipped_level() -> None:
    """The rule itself bites: h2 followed by h4 is reported, h4 back to h2 is fine."""
    good = [
        {"level": 1, "text": "T"},
        {"level": 2, "text": "a"},
        {"level": 3, "text": "b"},
        {"level": 2, "text": "c"},
    ]
    bad = [{"level": 1, "text": "T"}, {"level": 2, "text": "a"}, {"level": 4, "text": "b"}]
    assert heading_problems(good) == []
    assert heading_problems(bad) == ["h2 'a' is followed by h4 'b': a level is skipped"]


@pytest.mark.parametrize("url", PAGES, ids=lambda u: u.strip("/") or "home")
def test_accessibility_basics(page: Any, url: str) -> None:
    page.goto(url)
    audit = page.evaluate(AUDIT_JS)
    assert audit["lang"], "<html> has no lang attribute"
    assert audit["mains"] == 1, f"{audit['mains']} <main> landmarks"
    assert heading_problems(audit["headings"]) == []
    assert audit["images"] == [], f"images without alt text: {audit['images']}"
    unlabelled = [b for b in audit["blocks"] if not b["title"] and b["language"] in ("", "text")]
    assert unlabelled == [], f"code blocks with neither a title nor a language: {unlabelled}"
    assert audit["buttons"] == [], f"code buttons without an accessible name: {audit['buttons']}"
    if url in {page_url(g) for g in GUIDES.values()}:
        assert audit["blocks"], "a guide page without code blocks"
        commands = [b for b in audit["blocks"] if b["language"] == "bash"]
        assert commands, "no command is labelled as bash"
