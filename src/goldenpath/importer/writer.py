"""Writing an imported guide: the spec as YAML in the house style, its templates, its notes."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from goldenpath.errors import Problem, UserError
from goldenpath.importer.blocks import parse
from goldenpath.importer.mapping import Draft, map_blocks
from goldenpath.importer.source import Note, normalise
from goldenpath.lint.report import run_rules
from goldenpath.lint.rules import Finding
from goldenpath.render.renderer import render_guide
from goldenpath.spec import loader
from goldenpath.spec.inputs import read_text
from goldenpath.spec.model import ID_PATTERN, SPEC_FILE, TEMPLATES_DIR

OWNER = "@your-org/your-team"


@dataclass(frozen=True)
class Imported:
    """What an import wrote and what it says about it."""

    folder: Path
    steps: int
    files: int
    notes: list[Note]
    findings: list[Finding]


class _Dumper(yaml.SafeDumper):
    """Multi-line text as literal blocks, the way the shipped guides are written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not re.search(r"[ \t]\n|\n[ \t]*$", value.rstrip("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def import_markdown(file: Path, golden_paths: Path, guide_id: str | None = None) -> Imported:
    """Import ``file`` as ``golden_paths/<id>/``; raise :class:`UserError` if it cannot be."""
    text, problem = read_text(file, "how-to")
    if text is None:
        raise UserError([problem] if problem else [])
    source = normalise(text)
    draft = map_blocks(parse(source.text), str(source.front_matter.get("description") or ""))
    draft.notes = sorted(source.notes + draft.notes, key=lambda note: note.line)
    draft.title = str(
        source.front_matter.get("title") or draft.title or file.stem.replace("-", " ").capitalize()
    )
    draft.summary = draft.summary or draft.title
    guide_id = guide_id or re.sub(r"[^a-z0-9]+", "-", file.stem.lower()).strip("-")
    if not re.fullmatch(ID_PATTERN, guide_id):
        raise UserError(
            [
                Problem(
                    "--id",
                    None,
                    "",
                    f"'{guide_id}' is not a guide id",
                    "use lowercase letters, digits and dashes",
                )
            ]
        )
    if not draft.steps:
        raise UserError(
            [
                Problem(
                    file, None, "", "no shell code block found: nothing to run", "import a page with commands"
                )
            ]
        )
    target = golden_paths / guide_id
    if target.exists():
        raise UserError(
            [Problem(target, None, "", "the guide folder exists already", "pass another --id, or remove it")]
        )
    golden_paths.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".import-{guide_id}-", dir=golden_paths))
    try:
        folder = staging / guide_id
        _write(folder, draft, guide_id, file)
        guide, problems = loader.parse_guide(folder / SPEC_FILE)
        if guide is None or problems:
            raise UserError(problems)
        render_guide(guide)  # raises UserError for a template problem
        folder.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    guide, _ = loader.parse_guide(target / SPEC_FILE)
    others, _ = loader.collect_guides(golden_paths, partial=True)
    findings = run_rules([guide], all_guides=others) if guide is not None else []
    return Imported(
        target, len(draft.steps) + len(draft.cleanup), len(draft.templates), draft.notes, findings
    )


def _hide_secrets(draft: Draft) -> None:
    """A secret value the page spelled out in its text is the secret's parameter there too."""
    for step in draft.steps + draft.cleanup:
        for key in ("explain", "after"):
            for value, name in draft.parameters.secrets.items():
                if key in step and value:
                    step[key] = step[key].replace(value, "{{ " + name + " }}")


def _write(folder: Path, draft: Draft, guide_id: str, file: Path) -> None:
    _hide_secrets(draft)
    (folder / TEMPLATES_DIR).mkdir(parents=True)
    for name, content in draft.templates.items():
        (folder / TEMPLATES_DIR / name).write_text(content, encoding="utf-8")
    cluster = any("cluster" in s.get("requires", ()) for s in draft.steps)
    spec: dict[str, Any] = {"type": "how-to"}
    if draft.parameters.found:
        spec["parameters"] = list(draft.parameters.found.values())
    for key, value in (
        ("prerequisites", draft.prerequisites),
        ("steps", draft.steps),
        ("cleanup", draft.cleanup),
    ):
        if value:
            spec[key] = value
    if draft.next_steps:
        spec["nextSteps"] = draft.next_steps
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": guide_id,
            "title": draft.title,
            "summary": draft.summary,
            "owner": OWNER,
            "stage": "integrate" if cluster else "build",
            "tags": ["imported"],
        },
        "spec": spec,
    }
    header = [f"# Imported from {file.name} by goldenpath import. To review:"]
    header.append(
        f"# - metadata.owner ({OWNER}) and metadata.stage are guesses; add metadata.review once read."
    )
    header += [f"# - {file.name}:{note.line}: {note.message}" for note in draft.notes]
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    (folder / SPEC_FILE).write_text("\n".join(header) + "\n" + body, encoding="utf-8")
