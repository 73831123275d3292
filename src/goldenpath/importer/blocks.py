"""The page as a flat list of blocks, from a Markdown parser: headings, prose and code.

Prose keeps its Markdown as written (its source lines), so emphasis, links and tables reach the
guide's explanations unchanged; list markers go, since steps take the list's place.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from markdown_it import MarkdownIt

from goldenpath.importer.source import TAB


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass(frozen=True)
class Prose:
    text: str
    line: int


@dataclass(frozen=True)
class Code:
    language: str
    title: str
    content: str
    line: int
    tab: str = ""
    """The tab label, when the block is one tab of a group."""
    indented: bool = False
    """An indented code block, not a fence."""


Block = Heading | Prose | Code

_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_ANCHOR = re.compile(r"\s*\{\s*#[^}]*\}\s*$")


def parse(text: str) -> list[Block]:
    """The blocks of a page, in reading order."""
    lines = text.split("\n")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    tab = ""
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "heading_open":
            text = _ANCHOR.sub("", tokens[index + 1].content)  # {#id} attribute lists
            blocks.append(Heading(int(token.tag[1]), " ".join(text.split()), start + 1))
        elif token.type == "html_block" and (found := TAB.search(token.content)):
            tab = found.group(1)
            continue
        elif token.type in ("fence", "code_block"):
            language, title = _info(token.info)
            indented = token.type == "code_block"
            blocks.append(Code(language, title, token.content, start + 1, tab, indented))
        elif token.type in ("paragraph_open", "table_open"):  # table cells hold no paragraphs
            blocks.append(Prose(_source(lines[start:end]), start + 1))
        elif token.type == "html_block":
            blocks.append(Prose(token.content.strip(), start + 1))
        else:
            continue
        tab = tab if isinstance(blocks[-1], Code) and blocks[-1].tab else ""
    return blocks


def _source(lines: list[str]) -> str:
    """Prose as written: the list marker of its first line and any quote markers removed."""
    if lines:
        lines = [_MARKER.sub("", lines[0], count=1), *lines[1:]]
    lines = [_QUOTE.sub("", line) for line in lines]
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines).strip()


def _info(info: str) -> tuple[str, str]:
    """A fence's language and its file name (``yaml title="deploy.yaml"``, ``{.yaml title=x}``)."""
    info = info.strip().strip("{}")
    try:
        words = shlex.split(info)
    except ValueError:
        words = info.split()
    language = words[0].lstrip(".").lower() if words and "=" not in words[0] else ""
    title = next((w.split("=", 1)[1] for w in words if w.startswith(("title=", "filename="))), "")
    return language, title
