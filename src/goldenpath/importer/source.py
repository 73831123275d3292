"""A how-to's Markdown made plain before it is parsed: front matter, site shortcodes, MkDocs
admonitions, tabs and snippets, HTML comments.

Real pages carry their site's syntax: Hugo shortcodes (``{{< note >}}``), MkDocs admonitions
(``!!! note``) and tabs (``=== "bash"``), snippets (``--8<--``). Each is turned into plain Markdown
or reported as a :class:`Note`, line by line, so every line keeps its number for the notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

TAB_MARK = "<!-- goldenpath-tab: {} -->"
"""What a tab's header becomes: the parser reads the label back from this comment."""
TAB = re.compile(r"<!-- goldenpath-tab: (.*) -->")


@dataclass(frozen=True)
class Note:
    """Something of the page the import could not map, or mapped in a way to review."""

    line: int
    message: str


@dataclass
class Source:
    """The page as plain Markdown, with what its front matter said and what was noticed."""

    text: str
    front_matter: dict[str, Any]
    notes: list[Note]


_SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*([\w-]+)(.*?)\s*[>%]\}\}")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_CALLOUTS = {"note", "caution", "warning", "tip", "info", "important"}
_SECTIONS = {"prerequisites": "Before you begin", "whatsnext": "What's next", "objectives": "Objectives"}
_ADMONITION = re.compile(r'^(\s*)(?:!!!|\?\?\?\+?)\s+(\w+)(?:\s+"([^"]*)")?\s*$')
_MKDOCS_TAB = re.compile(r'^(\s*)===\s+"([^"]+)"\s*$')
_SNIPPET = re.compile(r'^\s*-{1,2}8<-{1,2}\s+"?([^"]+)"?\s*$')


def normalise(text: str) -> Source:
    """The page as plain Markdown with the same number of lines, and the notes on the way."""
    notes: list[Note] = []
    lines = text.replace("\r\n", "\n").split("\n")
    front = _front_matter(lines, notes)
    lines = _comments(lines, notes)
    lines = [_shortcodes(line, number, notes) for number, line in enumerate(lines, start=1)]
    lines = _indented_blocks(lines, notes)
    return Source("\n".join(lines), front, notes)


def _front_matter(lines: list[str], notes: list[Note]) -> dict[str, Any]:
    if not lines or lines[0].strip() != "---":
        return {}
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        notes.append(Note(1, f"front matter is not valid YAML ({exc.__class__.__name__}); ignored"))
        data = {}
    for i in range(end + 1):
        lines[i] = ""
    if not isinstance(data, dict):
        return {}
    unused = sorted(k for k in data if k not in ("title", "description"))
    if unused:
        notes.append(Note(1, "front matter keys not mapped: " + ", ".join(map(str, unused))))
    return data


def _comments(lines: list[str], notes: list[Note]) -> list[str]:
    """HTML comments out, keeping their lines; said once, with their lines."""
    text = "\n".join(lines)
    seen: list[int] = []

    def drop(found: re.Match[str]) -> str:
        seen.append(text.count("\n", 0, found.start()) + 1)
        return "\n" * found.group(0).count("\n")

    text = re.sub(r"<!--.*?-->", drop, text, flags=re.S)
    if seen:
        where = ", ".join(map(str, seen[:8])) + (" ..." if len(seen) > 8 else "")
        notes.append(Note(seen[0], f"dropped {len(seen)} HTML comment(s), on line(s) {where}"))
    return text.split("\n")


def _shortcodes(line: str, number: int, notes: list[Note]) -> str:
    def replace(found: re.Match[str]) -> str:
        closing, name, rest = found.group(2), found.group(3), found.group(4)
        attributes: dict[str, str] = dict(_ATTRIBUTE.findall(rest))
        argument = re.search(r'"([^"]*)"', rest)
        if name == "glossary_tooltip":
            return attributes.get("text", "")
        if name == "heading" and argument:
            words = argument.group(1)
            return _SECTIONS.get(words, words.replace("_", " ").capitalize())
        if name in _CALLOUTS:
            return "" if closing else f"**{name.capitalize()}:** "
        if name == "tab" and not closing:
            return TAB_MARK.format(attributes.get("name", "tab"))
        if name in ("tabs", "tab"):
            return ""
        what = attributes.get("file") or (argument.group(1) if argument else "")
        label = "{{< " + name + " >}}" + (f" ({what})" if what else "")
        notes.append(Note(number, f"shortcode {label} dropped: it pulls in content from elsewhere"))
        return ""

    return _SHORTCODE.sub(replace, line)


def _indented_blocks(lines: list[str], notes: list[Note]) -> list[str]:
    """MkDocs admonitions and tabs: their header becomes a line of text (or a tab mark), their
    indented body plain Markdown; snippets are reported."""
    out: list[str] = []
    depth: int | None = None  # indentation of the body being dedented
    for number, line in enumerate(lines, start=1):
        if depth is not None:
            if not line.strip() or line.startswith(" " * depth):
                out.append(line[depth:] if line.strip() else "")
                continue
            depth = None
        if found := _ADMONITION.match(line):
            title = found.group(3) or found.group(2).capitalize()
            out.append(f"{found.group(1)}**{title}:**")
            depth = len(found.group(1)) + 4
        elif found := _MKDOCS_TAB.match(line):
            out.append(found.group(1) + TAB_MARK.format(found.group(2)))
            depth = len(found.group(1)) + 4
        elif found := _SNIPPET.match(line):
            notes.append(Note(number, f"snippet {found.group(1)!r} not included: copy its text in"))
            out.append("")
        else:
            out.append(line)
    return out
