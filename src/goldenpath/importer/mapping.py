"""An imported page's blocks as a golden-path spec: a step per shell block, titled by the nearest
heading, with the prose before it as its explanation and the output block after it as what the
reader should see; named code blocks become files, "before you begin" prerequisites, "clean up"
the cleanup, "what's next" the next steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from goldenpath.importer import commands
from goldenpath.importer.blocks import Block, Code, Heading, Prose
from goldenpath.importer.source import Note

_OUTPUTS = {"", "text", "txt", "output", "plain", "plaintext", "none", "log", "console-output"}
_STRUCTURED = {"json", "yaml", "yml"}
_SAYS_OUTPUT = re.compile(
    r"(?i)\b(?:output|result|response)\b[^.]*(?:similar|like|looks|:\s*$)|\byou should see\b"
    r"|\b(?:it|this|which) (?:prints|returns|shows)\b"
)
_NAMES_FILE = re.compile(
    r"(?i)(?:save|create|write|put|name|call|add)\b[^.`]*?`([\w.@/-]+\.\w+|Dockerfile|Makefile)`"
    r"|`([\w.@/-]+\.\w+|Dockerfile|Makefile)`\s*:\s*$"
)
TO_ACCEPT = "(written by goldenpath check --accept from a real run)\n"
"""The expected output of a command whose output the page does not show: accept mode fills it."""
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_KIND = re.compile(r"^kind:\s*(\w+)", re.M)


@dataclass
class Draft:
    """The guide an import writes, before it is written."""

    title: str = ""
    summary: str = ""
    prerequisites: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    cleanup: list[dict[str, Any]] = field(default_factory=list)
    next_steps: list[dict[str, Any]] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)
    parameters: commands.Parameters = field(default_factory=commands.Parameters)
    notes: list[Note] = field(default_factory=list)


class _Mapper:
    def __init__(self, draft: Draft) -> None:
        self.draft = draft
        self.section = "steps"
        self.heading = ""
        self.under_heading = 0
        self.prose: list[str] = []
        self.last: dict[str, Any] | None = None
        """The step an output block right after it would belong to."""
        self.ids: set[str] = set()
        self.heading_at = 0

    def heading_block(self, block: Heading) -> None:
        if block.level == 1 and not self.draft.title:
            self.draft.title = block.text
            return
        self._flush_after()
        name = block.text.lower()
        if re.search(r"\bclean(?:ing)?[ -]?up\b|\bteardown\b", name):
            self.section = "cleanup"
        elif re.search(r"before you begin|prerequisite|requirements", name):
            self.section = "prerequisites"
        elif re.search(r"what'?s next|next steps|further reading|see also", name):
            self.section = "next"
        elif self.section != "cleanup" or block.level <= 2:
            self.section = "steps"
        self.heading, self.under_heading, self.last = block.text, 0, None
        self.heading_at = len(self.prose)  # where the section's own text starts

    def prose_block(self, block: Prose) -> None:
        if self.section == "prerequisites":
            self.draft.prerequisites.append({"text": commands.escape(block.text)})
        elif self.section == "next":
            self._links(block)
        elif not self.draft.summary and not self.draft.steps and not self.heading:
            self.draft.summary = commands.escape(" ".join(block.text.split()))
        else:
            self.prose.append(commands.escape(block.text))

    def code_block(self, block: Code, group: list[Code]) -> None:
        if group:
            self._variants(group)
        elif block.language in commands.SHELLS or (block.language in _OUTPUTS and _is_session(block)):
            self._commands(block)
        elif self._output(block):
            return
        elif path := self._file_name(block):
            self._file(block, path)
        elif block.indented and self.section != "next":
            self._commands(block, note="an indented code block, read as commands")
        else:
            self.prose.append(f"```{block.language}\n{commands.escape(block.content.rstrip())}\n```")
            self._note(block.line, "a code block that is no command, output or named file: kept in the text")

    # -- steps -----------------------------------------------------------------------------

    def _commands(self, block: Code, note: str = "") -> None:
        if note:
            self._note(block.line, note)
        if self.section == "prerequisites":
            for command, _ in commands.split_session(block.content):
                command = command.strip()
                self.draft.prerequisites.append({"text": f"`{command}` works", "command": command})
            return
        for command, output in commands.split_session(block.content):
            if commands.is_interactive(command):
                self.prose.append(f"```bash\n{commands.escape(command)}\n```")
                self._note(block.line, f"interactive, kept in the text, not run: {command.splitlines()[0]}")
                continue
            run, told = commands.prepare(command, self.draft.parameters)
            step = self._step(block.line, run)
            background, ready = commands.background(command)
            if background:
                step["background"] = True
                if ready:
                    step["ready"] = ready
                told.append("keeps running: marked background" + ("" if ready else "; add a ready condition"))
            if commands.fetched(command):
                told.append("applies a manifest from the web: save it under templates/ with a file step")
            if not background:  # what the reader sees: from the page, or from the run
                step["expect"] = {"output": commands.escape(output) if output else TO_ACCEPT}
            self.draft.notes += [Note(block.line, f"step '{step['id']}': {message}") for message in told]
            self.last = None if background or output else step

    def _variants(self, group: list[Code]) -> None:
        variants = []
        for code in group:
            run, told = commands.prepare(code.content.rstrip("\n"), self.draft.parameters)
            variants.append({"label": code.tab, "run": run})
            self.draft.notes += [Note(code.line, message) for message in told]
        step = self._step(group[0].line, "")
        del step["run"]
        step["variants"] = variants
        step["requires"] = sorted({r for v in variants for r in commands.needs(v["run"])}) or None
        if step["requires"] is None:
            del step["requires"]
        step["expect"] = {"output": TO_ACCEPT}
        self.last = step

    def _step(self, line: int, run: str) -> dict[str, Any]:
        self.under_heading += 1
        title = self.heading or self._title_from_prose() or f"Run {run.splitlines()[0][:40]}"
        if self.under_heading > 1 and self.heading:
            title = self._title_from_prose() or f"{self.heading} ({self.under_heading})"
        step: dict[str, Any] = {"id": self._id(title), "title": title}
        if self.prose:
            step["explain"] = "\n\n".join(self.prose)
            self.prose = []
        step["run"] = run
        if needs := commands.needs(run):
            step["requires"] = needs
        getattr(self.draft, "cleanup" if self.section == "cleanup" else "steps").append(step)
        return step

    def _title_from_prose(self) -> str:
        first = self.prose[-1].split("\n")[0] if self.prose else ""
        first = re.sub(r"[`*_]", "", first).strip()
        if (
            first.endswith(":")
            and len(first) <= 60
            and not re.match(r"(?i)(run|type|enter|use) (the|this)", first)
        ):
            return first.rstrip(":")
        return ""

    def _id(self, title: str) -> str:
        words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split()
        base = ""
        for word in words:  # whole words, up to 40 characters
            if len(base) + len(word) + 1 > 40 and base:
                break
            base = f"{base}-{word}" if base else word[:40]
        base = base or "step"
        candidate, n = base, 1
        while candidate in self.ids:
            n += 1
            candidate = f"{base}-{n}"
        self.ids.add(candidate)
        return candidate

    def _output(self, block: Code) -> bool:
        """An output block right after a command: the command's "you should see"."""
        if self.last is None or self.last.get("expect", {}).get("output", TO_ACCEPT) != TO_ACCEPT:
            return False
        says = [p for p in self.prose if _SAYS_OUTPUT.search(p)]
        if block.language not in _OUTPUTS and not (block.language in _STRUCTURED and says):
            return False
        if any(p not in says for p in self.prose):
            return False
        self.prose = []  # "The output is similar to:" is what "You should see" says
        self.last["expect"] = {"output": commands.escape(block.content)}
        self.last = None
        return True

    def _file_name(self, block: Code) -> str:
        if block.title:
            return block.title
        said = _NAMES_FILE.search(self.prose[-1]) if self.prose else None
        if said:
            return said.group(1) or said.group(2)
        kind = _KIND.search(block.content)
        if block.language in ("yaml", "yml") and kind and "apiVersion:" in block.content:
            name = f"{kind.group(1).lower()}.yaml"
            self.draft.notes.append(
                Note(block.line, f"an unnamed manifest saved as {name}: use the name your commands expect")
            )
            return name
        return ""

    def _file(self, block: Code, path: str) -> None:
        template = PurePosixPath(path).name + ".j2"
        while template in self.draft.templates:
            template = "_" + template
        content = block.content
        if re.search(r"\{[{%#]", content):
            content = "{% raw %}" + content + "{% endraw %}"
        self.draft.templates[template] = content
        step = self._step(block.line, "")
        del step["run"]
        step["file"] = {"path": path, "template": template}
        self.last = None

    def _links(self, block: Prose) -> None:
        for text, url in _LINK.findall(block.text):
            if url.startswith(("http://", "https://")):
                self.draft.next_steps.append({"url": url, "title": text})
            else:
                self.draft.notes.append(
                    Note(block.line, f"relative link not mapped: {url} (write the full URL)")
                )

    def _note(self, line: int, message: str) -> None:
        self.draft.notes.append(Note(line, message))

    def _flush_after(self) -> None:
        if not self.prose:
            return
        own = len(self.prose) > self.heading_at and self.section in ("steps", "cleanup")
        if self.heading and not self.under_heading and own:  # a section without commands keeps its title
            self.prose.insert(self.heading_at, f"**{commands.escape(self.heading)}**")
        target = (self.draft.cleanup if self.section == "cleanup" else self.draft.steps) or self.draft.steps
        if target:
            previous = target[-1].get("after", "")
            target[-1]["after"] = "\n\n".join([*([previous] if previous else []), *self.prose])
            self.prose = []
        # else: no step yet; the text explains the first one


def _is_session(block: Code) -> bool:
    """An untagged block with ``$ `` prompts and output: a terminal session."""
    return bool(commands.split_session(block.content)[0][1])


def map_blocks(blocks: list[Block], summary: str = "") -> Draft:
    """The draft guide of a page's blocks; ``summary`` when the page gave one (front matter),
    else its first paragraph is the summary."""
    draft = Draft(summary=summary)
    mapper = _Mapper(draft)
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if isinstance(block, Heading):
            mapper.heading_block(block)
        elif isinstance(block, Prose):
            mapper.prose_block(block)
        else:
            group: list[Code] = []
            while index < len(blocks) and isinstance(tab := blocks[index], Code) and tab.tab:
                group.append(tab)
                index += 1
            if group and all(g.language in commands.SHELLS or not g.language for g in group):
                mapper.code_block(group[0], group)
                continue
            for code in group or [block]:  # tabs of files or outputs: each on its own
                mapper.code_block(code, [])
            if group:
                continue
        index += 1
    mapper._flush_after()
    return draft
