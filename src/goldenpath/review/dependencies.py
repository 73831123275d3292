"""What a guide's rendered output depends on: its spec and the templates it renders.

Templates are followed through symlinks and Jinja2 ``{% include %}``, ``{% extends %}`` and
``{% import %}``, so a change to a shared partial affects every guide that uses it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import jinja2.meta

from goldenpath.render.jinja import jinja_env
from goldenpath.spec.model import Guide


def relative(path: Path, root: Path) -> str | None:
    try:
        return PurePosixPath(Path(os.path.normpath(path)).relative_to(root)).as_posix()
    except ValueError:
        return None


def involved_paths(path: Path, root: Path) -> list[Path]:
    """``path`` and every symlink on the way to the file it finally names, in order.

    Git tracks the links themselves, so a change to a link, to a linked folder or to the file at
    the end of the chain all change what ``path`` reads.
    """
    found: list[Path] = []
    pending = [Path(os.path.normpath(path))]
    while pending and len(found) < 64:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        for ancestor in (current, *current.parents):
            if ancestor == root or root not in ancestor.parents:
                break
            if ancestor.is_symlink():
                if ancestor not in found:
                    found.append(ancestor)  # the link itself is what git tracks
                target = Path(os.path.normpath(ancestor.parent / os.readlink(ancestor)))
                pending.append(Path(os.path.normpath(target / current.relative_to(ancestor))))
                break
    real = Path(os.path.realpath(path))
    if real not in found:
        found.append(real)
    return found


def _walk_templates(folder: Path) -> Iterator[str]:
    """Every file name under a templates folder, following symlinked folders (without cycles)."""
    seen: set[str] = set()
    for current, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        for name in files:
            yield PurePosixPath(Path(current, name).relative_to(folder)).as_posix()


def _spec_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            if not item.metadata.get("internal"):
                yield from _spec_strings(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _spec_strings(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _spec_strings(item)


def _references(env: jinja2.Environment, source: str) -> list[str | None]:
    """Templates a Jinja2 source includes, extends or imports; None for a computed name."""
    try:
        return list(jinja2.meta.find_referenced_templates(env.parse(source)))
    except jinja2.TemplateSyntaxError:
        return []  # lint reports it; the file itself is still a dependency


def template_names(guide: Guide) -> set[str]:
    """Template names a guide renders: those its steps name, and what they pull in, transitively.

    A computed name (``{% include name %}``) could be any file, so it makes every file under
    ``templates/`` a dependency.
    """
    env = jinja_env(jinja2.FileSystemLoader(str(guide.templates_dir)))
    queue: list[str | None] = [s.file.template for s in guide.all_steps() if s.file is not None]
    for text in _spec_strings(guide):
        if "{%" in text:
            queue += _references(env, text)
    names: set[str] = set()
    while queue:
        name = queue.pop()
        if name is None:
            queue += [n for n in _walk_templates(guide.templates_dir) if n not in names]
            continue
        if name in names:
            continue
        names.add(name)
        path = guide.templates_dir / name
        if path.is_file():
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            queue += _references(env, source)
    return names


def guide_dependencies(guide: Guide, root: Path) -> dict[str, str]:
    """Paths (relative to the repository root) whose change changes the guide's rendered output.

    Maps each path to what it is to the guide: ``spec`` or ``template <name>``.
    """
    deps: dict[str, str] = {}
    source = relative(guide.source, root)
    if source is not None:
        deps[source] = "spec"
    for name in sorted(template_names(guide)):
        chain = [
            rel
            for rel in (relative(p, root) for p in involved_paths(guide.templates_dir / name, root))
            if rel is not None
        ]
        for rel in chain:
            deps.setdefault(rel, f"template {name}")
    return deps
