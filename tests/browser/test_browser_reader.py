"""The site as a new developer sees it, in a real Chromium: what they see, copy and click works."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from site_harness import ROOT, new_context

from goldenpath import config
from goldenpath.render.renderer import RenderedGuide, RenderedStep, render_guide
from goldenpath.spec import loader

pytestmark = pytest.mark.browser

HELLO = "hello-world"
HELLO_URL = f"getting-started/{HELLO}/"
COPY_BUTTON = "button.md-code__button[data-md-type='copy'], button.md-clipboard"


def _guides() -> dict[str, RenderedGuide]:
    """The repository's guides, rendered, for parametrizing (the fixture gives the same)."""
    settings = config.load_settings(ROOT)
    return {
        g.id: render_guide(g, kubernetes_version=settings.kubernetes_version)
        for g in loader.load_guides(settings.golden_paths_dir)
    }


GUIDES = _guides()

# Elements of a step: every sibling after the step's heading up to the next heading of the same
# or a higher level. The page template puts a step's content right under its heading.
SECTION_JS = """
(id) => {
  const heading = document.getElementById(id);
  if (!heading) return null;
  const level = Number(heading.tagName[1]);
  const out = [];
  for (let el = heading.nextElementSibling; el; el = el.nextElementSibling) {
    if (/^H[1-6]$/.test(el.tagName) && Number(el.tagName[1]) <= level) break;
    out.push(el);
  }
  return out;
}
"""


def page_url(guide: RenderedGuide) -> str:
    return f"{guide.guide.spec.type}/{guide.id}/"


def visible_steps(guide: RenderedGuide) -> list[RenderedStep]:
    return [s for s in guide.steps if s.number is not None]


def visible_cleanup(guide: RenderedGuide) -> list[RenderedStep]:
    return [s for s in guide.cleanup if not s.step.hidden]


def heading_text(text: str) -> str:
    """A heading's text without the permalink sign MkDocs appends."""
    return text.replace("\u00b6", "").strip()


def with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def section_blocks(page: Any, step_id: str) -> list[dict[str, Any]]:
    """The code blocks of a step's section: title, code text, pre id, whether directly in it."""
    handle = page.evaluate_handle(SECTION_JS, f"step-{step_id}")
    assert page.evaluate("(s) => s !== null", handle), f"no heading with id step-{step_id}"
    return page.evaluate(
        """(els) => els.flatMap((el) => {
            const blocks = el.matches('div.highlight') ? [el] : [...el.querySelectorAll('div.highlight')];
            return blocks.map((b) => ({
              direct: b === el,
              title: b.querySelector('.filename')?.textContent ?? null,
              code: b.querySelector('pre > code').textContent,
              pre: b.querySelector('pre').id,
            }));
        })""",
        handle,
    )


# --- the way in ------------------------------------------------------------------------------


def test_home_page_leads_to_hello_world_in_one_click(page: Any, base_url: str) -> None:
    page.goto("")
    button = page.locator("article a.md-button--primary").first
    assert button.is_visible(), "the home page has no primary call to action"
    button.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path.rstrip("/").endswith(f"/getting-started/{HELLO}"), page.url
    assert heading_text(page.locator("article h1").inner_text()) == GUIDES[HELLO].guide.metadata.title


def test_navigation_shows_both_guide_sections(page: Any) -> None:
    page.goto(HELLO_URL)
    nav = page.locator("nav.md-nav--primary")
    for title in ("Getting started", "How-to guides"):
        entry = nav.get_by_text(title, exact=True).first
        assert entry.is_visible(), f"{title!r} is not in the navigation"
    links = nav.locator("a.md-nav__link")
    listed = {heading_text(t) for t in links.all_inner_texts()}
    for guide in GUIDES.values():
        assert guide.guide.metadata.title in listed, f"{guide.id} is missing from the navigation"
    # The how-to section's index lists every how-to guide.
    nav.get_by_text("How-to guides", exact=True).first.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path.endswith("/how-to/"), page.url
    article = page.locator("article").inner_text()
    for guide in GUIDES.values():
        if guide.guide.spec.type == "how-to":
            assert guide.guide.metadata.title in article


def test_stage_tag_leads_to_the_list_of_its_guides(page: Any) -> None:
    hello = GUIDES[HELLO]
    stage = hello.guide.metadata.stage
    page.goto(HELLO_URL)
    page.locator("nav.md-tags a.md-tag", has_text=re.compile(rf"^\s*{re.escape(stage)}\s*$")).click()
    page.wait_for_load_state()
    assert urlsplit(page.url).fragment == f"tag:{stage}", page.url
    by_stage: dict[str, set[str]] = {}
    for guide in GUIDES.values():
        by_stage.setdefault(guide.guide.metadata.stage, set()).add(guide.guide.metadata.title)
    for tag, titles in by_stage.items():
        listed = page.evaluate(
            """(id) => {
              const h = document.getElementById(id);
              if (!h) return null;
              let list = h.nextElementSibling;
              while (list && list.tagName !== 'UL') list = list.nextElementSibling;
              return list ? [...list.querySelectorAll('a')].map((a) => a.textContent.trim()) : [];
            }""",
            f"tag:{tag}",
        )
        assert listed is not None, f"the tags page has no list for stage {tag!r}"
        assert set(listed) >= titles, f"stage {tag!r} lists {listed}, expected {sorted(titles)}"


# --- the hello-world page --------------------------------------------------------------------


def status_banner_state(page: Any) -> str:
    """The state of the page's one status banner; fails unless there is exactly one, above the
    guide's first step."""
    banners = page.locator("article .goldenpath-status")
    assert banners.count() == 1, f"{banners.count()} status banners"
    banner = banners.first
    assert banner.is_visible()
    assert banner.locator(".admonition-title").inner_text().strip(), "the banner has no headline"
    classes = (banner.get_attribute("class") or "").split()
    states = [c.removeprefix("goldenpath-status--") for c in classes if c.startswith("goldenpath-status--")]
    assert len(states) == 1, classes
    above = page.evaluate("""() => {
        const banner = document.querySelector('article .goldenpath-status');
        const step = document.querySelector('article h2[id^="step-"]');
        return !!(banner.compareDocumentPosition(step) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert above, "the status banner is not above the steps"
    return str(states[0])


def test_hello_world_shows_prerequisites_steps_files_and_next_steps(
    page: Any, base_url: str, site_states: dict[str, str]
) -> None:
    hello = GUIDES[HELLO]
    page.goto(HELLO_URL)

    # Its status, as the run history says at build time.
    assert status_banner_state(page) == site_states[HELLO]

    # Prerequisites: one item each, and the commands that check them.
    box = page.locator("article .admonition", has_text="Before you start").first
    assert box.is_visible()
    items = box.locator(":scope > ul > li")
    assert items.count() == len(hello.prerequisites)
    checks = [command.strip() for _, command in hello.prerequisites if command]
    if checks:
        assert box.locator("pre > code").first.text_content() == with_newline("\n".join(checks))

    # Every visible step, numbered and titled as in the spec; hidden steps are not shown.
    headings = page.locator("article h2[id^='step-']")
    shown = [(h.get_attribute("id"), heading_text(h.inner_text())) for h in headings.all()]
    expected = [(f"step-{s.id}", f"{s.number}. {' '.join(s.title.split())}") for s in visible_steps(hello)]
    assert shown == expected
    for step in hello.steps:
        if step.number is None:
            assert page.locator(f"[id='step-{step.id}']").count() == 0, f"hidden step {step.id} shown"
    for step in visible_steps(hello) + visible_cleanup(hello):
        assert page.locator(f"[id='step-{step.id}']").is_visible()

    # Generated files, each in a code block titled with its path and holding exactly its content;
    # expected output under "You should see".
    for step in visible_steps(hello) + visible_cleanup(hello):
        blocks = section_blocks(page, step.id)
        if step.file is not None:
            titled = [b for b in blocks if b["title"] == step.file.path]
            assert titled, f"step {step.id}: no code block titled {step.file.path!r}"
            assert titled[0]["code"] == with_newline(step.file.content)
        if step.expect.output is not None:
            outputs = [b for b in blocks if b["title"] == "You should see"]
            assert outputs and outputs[0]["code"] == with_newline(step.expect.output), step.id
    files = [s.file.path for s in hello.steps if s.file is not None and s.number is not None]
    assert files, "hello-world creates files"

    # Next steps: one link each, to a page that exists.
    next_section = page.evaluate_handle(SECTION_JS, "next-steps")
    links = page.evaluate(
        "(els) => [...(els.find((el) => el.tagName === 'UL')?.querySelectorAll(':scope > li > a') ?? [])]"
        ".map((a) => [a.textContent, a.href])",
        next_section,
    )
    titles = {g.id: g.guide.metadata.title for g in GUIDES.values()}
    wanted = [n.title or titles.get(n.guide or "", n.url or "") for n in hello.guide.spec.next_steps]
    assert [text for text, _ in links] == wanted
    for _, href in links:
        if href.startswith(base_url):
            assert page.request.get(href).ok, f"next step {href} does not exist"


def test_report_a_problem_links_carry_guide_and_step(page: Any, settings: config.Settings) -> None:
    hello = GUIDES[HELLO]
    assert settings.repo_url, "set [tool.goldenpath] repo_url so pages carry report links"
    page.goto(HELLO_URL)
    for step in visible_steps(hello) + visible_cleanup(hello):
        handle = page.evaluate_handle(SECTION_JS, f"step-{step.id}")
        hrefs = page.evaluate(
            """(els) => els.flatMap((el) => [...el.querySelectorAll('a')])
                 .filter((a) => a.textContent.trim() === 'Report a problem with this step')
                 .map((a) => a.href)""",
            handle,
        )
        assert len(hrefs) == 1, f"step {step.id}: {len(hrefs)} report links"
        url = urlsplit(hrefs[0])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{settings.repo_url.rstrip('/')}/issues/new"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert f"[{HELLO}]" in query["title"] and f"'{step.id}'" in query["title"], query["title"]
        assert f"Guide: `{HELLO}`" in query["body"]
        assert f"Step: `{step.id}`" in query["body"]
        assert hello.guide.source.name in query["body"]
    page_link = page.get_by_role("link", name="Report a problem with this guide")
    query = parse_qs(urlsplit(page_link.get_attribute("href")).query)
    assert f"[{HELLO}]" in query["title"][0] and f"Guide: `{HELLO}`" in query["body"][0]


# --- copying commands ------------------------------------------------------------------------


def read_clipboard(page: Any, previous: str, timeout: float = 5.0) -> str:
    """The clipboard once it no longer holds ``previous`` (copying is asynchronous)."""
    deadline = time.monotonic() + timeout
    text = previous
    while time.monotonic() < deadline:
        text = page.evaluate("navigator.clipboard.readText()")
        if text != previous:
            return str(text)
        time.sleep(0.05)
    return str(text)


@pytest.mark.parametrize(
    "guide_id",
    sorted(
        g
        for g in GUIDES
        if any(s.run is not None for s in visible_steps(GUIDES[g]) + visible_cleanup(GUIDES[g]))
    ),
)
def test_copy_button_copies_exactly_the_checked_command(browser: Any, base_url: str, guide_id: str) -> None:
    """Material copies the block's text with trailing whitespace trimmed (``trimEnd``); the check
    runs ``RenderedStep.run``. They must be the same bytes, but for the trailing newline."""
    guide = GUIDES[guide_id]
    context = new_context(browser, base_url)
    origin = base_url.rstrip("/")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    try:
        page = context.new_page()
        page.goto(page_url(guide))
        steps = [s for s in visible_steps(guide) + visible_cleanup(guide) if s.run is not None]
        for step in steps:
            assert step.run is not None
            commands = [b for b in section_blocks(page, step.id) if b["direct"] and b["title"] is None]
            assert commands, f"step {step.id}: no command block"
            block = page.locator(f"[id='{commands[0]['pre']}']")
            sentinel = f"<nothing copied for {step.id}>"
            page.evaluate("(t) => navigator.clipboard.writeText(t)", sentinel)
            block.hover()
            button = block.locator(COPY_BUTTON)
            assert button.count() == 1, f"step {step.id}: the command block has no copy button"
            button.click()
            copied = read_clipboard(page, sentinel)
            assert copied != sentinel, f"step {step.id}: the copy button copied nothing"
            assert copied == step.run.rstrip("\n"), (
                f"{guide_id} step {step.id}: copied {copied!r}, the check runs {step.run!r}"
            )
    finally:
        context.close()


# --- search ----------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{7,}", text)}


def _guide_text(guide: RenderedGuide) -> str:
    parts = [guide.guide.metadata.title, guide.guide.metadata.summary]
    for step in (*guide.steps, *guide.cleanup):
        parts += [
            step.title,
            step.explain,
            step.after,
            step.run or "",
            step.file.content if step.file else "",
            step.expect.output or "",
        ]
    return "\n".join(parts)


def distinctive_word() -> tuple[str, str]:
    """A how-to guide and a word of its steps' prose that no other guide uses, nor its title."""
    counts = Counter(w for g in GUIDES.values() for w in _words(_guide_text(g)))
    for guide_id in sorted(GUIDES):
        guide = GUIDES[guide_id]
        if guide.guide.spec.type != "how-to":
            continue
        prose = " ".join(s.explain + " " + s.after for s in visible_steps(guide))
        title = _words(guide.guide.metadata.title + " " + guide.guide.metadata.summary)
        # The longest such word: short ones may be search stop words ("because", "between").
        candidates = sorted((w for w in _words(prose) - title if counts[w] == 1), key=lambda w: (-len(w), w))
        if candidates:
            return guide_id, candidates[0]
    raise AssertionError("no how-to guide has a word of its own to search for")


def test_search_finds_a_how_to_guide_by_a_word_from_its_body(page: Any) -> None:
    guide_id, word = distinctive_word()
    page.goto("")
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially(word, delay=20)
    result = page.locator(f".md-search-result__item a[href*='how-to/{guide_id}/']").first
    result.wait_for(state="attached")
    result.click()
    page.wait_for_load_state()
    assert f"/how-to/{guide_id}/" in page.url
    assert word in page.locator("article").inner_text().lower()


# --- screenshots -----------------------------------------------------------------------------


def test_hello_world_screenshots_light_and_dark(browser: Any, base_url: str, artifacts: Path) -> None:
    """Saves the page in both palettes; the palette toggle switches between them."""
    context = new_context(browser, base_url, color_scheme="light")
    try:
        page = context.new_page()
        page.goto(HELLO_URL)
        assert page.evaluate("document.body.dataset.mdColorScheme") == "default"
        page.screenshot(path=str(artifacts / "hello-world-light.png"), full_page=True)
        page.locator("label[title='Switch to dark mode']:visible").first.click()
        page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
        page.screenshot(path=str(artifacts / "hello-world-dark.png"), full_page=True)
    finally:
        context.close()
    dark = new_context(browser, base_url, color_scheme="dark")
    try:
        page = dark.new_page()
        page.goto(HELLO_URL)
        assert page.evaluate("document.body.dataset.mdColorScheme") == "slate"
    finally:
        dark.close()
    for name in ("hello-world-light.png", "hello-world-dark.png"):
        assert (artifacts / name).stat().st_size > 10_000


def test_links_resolve_against_the_served_site(page: Any, base_url: str) -> None:
    """Every internal link on the hello-world page reaches a page of the site."""
    page.goto(HELLO_URL)
    hrefs = page.evaluate("[...document.querySelectorAll('article a[href]')].map((a) => a.href)")
    checked = set()
    for href in hrefs:
        target = href.split("#")[0]
        if target.startswith(base_url) and target not in checked:
            checked.add(target)
            assert page.request.get(target).ok, f"broken link {href}"
    assert checked
