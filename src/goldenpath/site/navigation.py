"""The guide sections of the site's navigation, and how a large one is grouped.

Material renders the navigation into every page. With ``navigation.prune`` it leaves out the
children of collapsed groups, but a top-level section (``navigation.sections``) is always open:
a section that lists every guide costs every page a link per guide, and the build grows with the
square of the number of guides. So a section with more guides than ``group_size`` is split into
groups by stage, in the order of the activity model, and a stage with more still into runs of
titles ("Build: A to F"); each page then carries only the group titles and its own group's links.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page as MkDocsPage

STAGE_ORDER = ("discover", "build", "test", "integrate", "verify")
"""The activity model's stages, in the order a developer meets them."""


def find_section(items: Sequence[Any], index_uri: str) -> Section | None:
    """The section whose children include the page ``index_uri``, at any depth."""
    for item in items:
        if isinstance(item, Section):
            for child in item.children:
                if isinstance(child, MkDocsPage) and child.file.src_uri == index_uri:
                    return item
            found = find_section(item.children, index_uri)
            if found is not None:
                return found
    return None


def link_pages(pages: Sequence[MkDocsPage]) -> None:
    """Previous/next links, as MkDocs sets them, after pages were added to the nav."""
    for before, after in itertools.pairwise(pages):
        before.next_page = after
        after.previous_page = before


def _walk(items: Sequence[Any]) -> Iterator[MkDocsPage]:
    for item in items:
        if isinstance(item, MkDocsPage):
            yield item
        elif isinstance(item, Section):
            yield from _walk(item.children)


def _runs(pages: list[tuple[str, MkDocsPage]], size: int) -> list[tuple[str, list[MkDocsPage]]]:
    """``pages`` (title, page), sorted by title, cut into runs of at most ``size``, each named by
    the first letters of its titles; the same name twice gets a number."""
    ordered = sorted(pages, key=lambda item: item[0].lower())
    runs: list[tuple[str, list[MkDocsPage]]] = []
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        first, last = chunk[0][0][:1].upper(), chunk[-1][0][:1].upper()
        runs.append((first if first == last else f"{first} to {last}", [page for _, page in chunk]))
    seen: dict[str, int] = {}
    named = []
    for name, pages_of_run in runs:
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name} ({seen[name]})", pages_of_run))
    return named


def group_section(section: Section, stages: Mapping[str, str], titles: Mapping[str, str], size: int) -> bool:
    """Split ``section``'s guide pages into groups when there are more than ``size``.

    ``stages`` and ``titles`` map a guide page's ``src_uri`` to its stage and title; pages not in
    them (the section's index page, hand-written pages) stay where they are, before the groups.
    Returns whether the section changed.
    """
    guides = [c for c in section.children if isinstance(c, MkDocsPage) and c.file.src_uri in stages]
    if size < 1 or len(guides) <= size:
        return False
    grouped = {id(page) for page in guides}
    kept: list[Any] = [c for c in section.children if id(c) not in grouped]
    by_stage: dict[str, list[tuple[str, MkDocsPage]]] = {}
    for page in guides:
        uri = page.file.src_uri
        by_stage.setdefault(stages[uri], []).append((titles[uri], page))
    order = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    groups: list[Section] = []
    for stage in sorted(by_stage, key=lambda s: (order.get(s, len(order)), s)):
        label = stage.capitalize()
        members = by_stage[stage]
        runs = [(label, [p for _, p in sorted(members, key=lambda m: m[0].lower())])]
        if len(members) > size:
            runs = [(f"{label}: {name}", run) for name, run in _runs(members, size)]
        for title, run in runs:
            group = Section(title, list(run))
            group.parent = section
            for page in run:
                page.parent = group
            groups.append(group)
    section.children = kept + groups
    return True


def reorder(nav: Navigation) -> None:
    """``nav.pages`` in the order of the tree again, with previous/next links to match."""
    nav.pages = list(_walk(nav.items))
    link_pages(nav.pages)
