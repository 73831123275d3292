"""Which guides a change touches: ``goldenpath affected`` and ``goldenpath check --affected``.

A guide's rendered output depends on its spec, the templates it renders (followed through
symlinks and Jinja2 ``{% include %}``, ``{% extends %}`` and ``{% import %}``), the page template,
goldenpath itself and its settings. The change is what differs between the merge base of a
revision and the working tree, untracked files included, so a pull request is compared with
the branch it targets, not with commits the target gained since.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2
import jinja2.meta
import yaml

from goldenpath import config, model, spec
from goldenpath.errors import Problem, UserError
from goldenpath.model import Guide
from goldenpath.render import jinja_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

Status = Literal["added", "changed", "removed", "renamed"]

PACKAGE_DIR = Path(__file__).resolve().parent
"""goldenpath's own source: when it lies inside the repository, a change to it affects every guide."""

_DEPENDENCY_FILES = ("requirements", "constraints")
_LOCK_SUFFIXES = (".lock",)


@dataclass(frozen=True)
class Change:
    """One changed path between the base and the working tree (``git diff --name-status``)."""

    status: str
    """``A`` added, ``M`` modified, ``D`` deleted, ``R`` renamed, ``T`` type changed (e.g. symlink)."""
    path: str
    """Path relative to the repository root, after the change."""
    old_path: str | None = None
    """Path before a rename."""

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.old_path is None else (self.old_path, self.path)


@dataclass(frozen=True)
class AffectedGuide:
    id: str
    status: Status
    reasons: tuple[str, ...]
    """Why the guide is affected, e.g. ``template deploy.yaml.j2 (golden_paths/x/...)``."""
    folder: str
    """The guide's folder relative to the repository root (before the change when removed)."""
    previous_id: str | None = None
    """The id before a rename."""

    @property
    def runs(self) -> bool:
        """The guide exists after the change, so it can be checked."""
        return self.status != "removed"


@dataclass(frozen=True)
class AffectedReport:
    base: str
    merge_base: str
    """The commit the working tree is compared with."""
    repo_root: Path
    golden_paths: str
    """The golden-paths folder relative to the repository root."""
    changes: tuple[Change, ...]
    guides: tuple[AffectedGuide, ...]
    everything: str | None
    """Why every guide is affected (the page template, goldenpath, its settings), if so."""

    @property
    def to_check(self) -> list[str]:
        """Ids of the affected guides that exist now, in a stable order."""
        return [g.id for g in self.guides if g.runs]

    def as_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "mergeBase": self.merge_base,
            "goldenPaths": self.golden_paths,
            "all": self.everything,
            "changedFiles": [c.path for c in self.changes],
            "guides": [
                {
                    "id": g.id,
                    "status": g.status,
                    "previousId": g.previous_id,
                    "folder": g.folder,
                    "check": g.runs,
                    "reasons": list(g.reasons),
                }
                for g in self.guides
            ],
        }


# -- git ---------------------------------------------------------------------------------------


def git(root: Path, *args: str, binary: bool = False) -> Any:
    """Run a read-only git command in ``root``; its output, or UserError saying what failed."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=not binary, check=False
        )
    except FileNotFoundError as exc:
        raise UserError("git is not installed; 'affected' and 'review' compare git revisions") from exc
    if result.returncode != 0:
        err = result.stderr if isinstance(result.stderr, str) else result.stderr.decode(errors="replace")
        raise UserError(f"git {' '.join(args)} failed: {err.strip()}")
    return result.stdout


def repo_root(start: Path) -> Path:
    """The top of the git work tree holding ``start``."""
    try:
        return Path(git(start, "rev-parse", "--show-toplevel").strip()).resolve()
    except UserError as exc:
        raise UserError(
            [Problem(start, None, "", "not inside a git work tree", "run it in a clone of the repository")]
        ) from exc


def merge_base(root: Path, base: str) -> str:
    """The commit a change is compared with: merge base of ``base`` and HEAD, else ``base``."""
    try:
        commit = git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").strip()
    except UserError:
        commit = ""
    if not commit:
        raise UserError(
            [
                Problem(
                    root,
                    None,
                    "",
                    f"unknown revision '{base}'",
                    "fetch it first, e.g. 'git fetch origin main' (actions/checkout needs fetch-depth: 0)",
                )
            ]
        )
    try:
        return str(git(root, "merge-base", commit, "HEAD").strip()) or commit
    except UserError:  # unrelated histories or a shallow clone: compare with the revision itself
        return str(commit)


def changed_files(root: Path, commit: str) -> list[Change]:
    """Every path that differs between ``commit`` and the work tree, untracked files included."""
    out = git(root, "diff", "--name-status", "-z", "-M", "--no-ext-diff", commit, "--")
    fields = out.split("\0")
    changes: list[Change] = []
    index = 0
    while index < len(fields) - 1:
        status = fields[index]
        if not status:
            break
        if status[0] in "RC":
            old, new = fields[index + 1], fields[index + 2]
            changes.append(Change("R" if status[0] == "R" else "A", new, old if status[0] == "R" else None))
            index += 3
        else:
            changes.append(Change(status[0], fields[index + 1]))
            index += 2
    known = {c.path for c in changes}
    for path in git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if path and path not in known:
            changes.append(Change("A", path))
    return changes


def show(root: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or None when it did not exist."""
    result = subprocess.run(
        ["git", "-C", str(root), "show", f"{commit}:{path}"], capture_output=True, check=False
    )
    return result.stdout.decode("utf-8", errors="replace") if result.returncode == 0 else None


# -- dependencies ------------------------------------------------------------------------------


def _relative(path: Path, root: Path) -> str | None:
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
    source = _relative(guide.source, root)
    if source is not None:
        deps[source] = "spec"
    for name in sorted(template_names(guide)):
        chain = [
            rel
            for rel in (_relative(p, root) for p in involved_paths(guide.templates_dir / name, root))
            if rel is not None
        ]
        for rel in chain:
            deps.setdefault(rel, f"template {name}")
    return deps


# -- what affects every guide ------------------------------------------------------------------


def page_template_dir(settings: config.Settings) -> Path | None:
    """The folder overriding the page template: ``page_templates`` or mkdocs.yml's plugin option."""
    if getattr(settings, "page_templates", ""):
        return settings.path(Path(settings.page_templates))
    option = _mkdocs_plugin_config(_read(settings.root / "mkdocs.yml")).get("page_template_dir")
    return settings.root / option if isinstance(option, str) and option else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


class _AnyTagLoader(yaml.SafeLoader):
    """mkdocs.yml may hold ``!ENV`` or ``!!python/name`` tags; read them as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_AnyTagLoader.add_multi_constructor("", _any_tag)


def _mkdocs_plugin_config(text: str | None) -> dict[str, Any]:
    """The options of the ``goldenpath`` plugin in a mkdocs.yml text ({} if absent)."""
    if not text:
        return {}
    try:
        data = yaml.load(text, Loader=_AnyTagLoader)  # a SafeLoader subclass
    except yaml.YAMLError:
        return {"<unreadable>": text}
    plugins = data.get("plugins", []) if isinstance(data, dict) else []
    if isinstance(plugins, dict):
        plugins = [{k: v} for k, v in plugins.items()]
    for item in plugins or []:
        if item == "goldenpath":
            return {"<enabled>": True}
        if isinstance(item, dict) and "goldenpath" in item:
            return {"<enabled>": True, **(item["goldenpath"] or {})}
    return {}


def _pyproject_view(text: str | None) -> Any:
    """What of a pyproject.toml matters to rendering: goldenpath's settings, version and pin."""
    if not text:
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text
    project = data.get("project", {})
    pins = [d for d in project.get("dependencies", []) if "goldenpath" in str(d).lower()]
    for extra in project.get("optional-dependencies", {}).values():
        pins += [d for d in extra if "goldenpath" in str(d).lower()]
    own = project.get("version") if project.get("name") == "goldenpath" else None
    return {"tool": data.get("tool", {}).get("goldenpath"), "pins": sorted(map(str, pins)), "version": own}


def _is_dependency_file(name: str) -> bool:
    return (name.startswith(_DEPENDENCY_FILES) and name.endswith(".txt")) or name.endswith(_LOCK_SUFFIXES)


def _mentions_goldenpath(root: Path, commit: str, path: str) -> bool:
    diff = git(root, "diff", "-U0", "--no-ext-diff", commit, "--", path)
    if not diff and (root / path).is_file():  # untracked: every line is new
        diff = _read(root / path) or ""
    return any(
        "goldenpath" in line.lower()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def everything_reason(
    settings: config.Settings, root: Path, commit: str, changes: Sequence[Change]
) -> str | None:
    """Why a change affects every guide, or None."""
    paths = [p for c in changes for p in c.paths]
    package = _relative(PACKAGE_DIR, root) if root in PACKAGE_DIR.parents else None
    override = page_template_dir(settings)
    override_rel = _relative(override, root) if override is not None else None
    pyproject = _relative(settings.root / "pyproject.toml", root)
    mkdocs = _relative(settings.root / "mkdocs.yml", root)
    for path in paths:
        if override_rel and (path == override_rel or path.startswith(override_rel + "/")):
            return f"page template changed: {path}"
        if package and path.startswith(package + "/"):
            return f"goldenpath changed: {path}"
    for path in paths:
        name = PurePosixPath(path).name
        if path == pyproject:
            if _pyproject_view(show(root, commit, path)) != _pyproject_view(_read(root / path)):
                return f"goldenpath settings or version changed: {path}"
        elif path == mkdocs:
            if _mkdocs_plugin_config(show(root, commit, path)) != _mkdocs_plugin_config(_read(root / path)):
                return f"goldenpath plugin options changed: {path}"
        elif _is_dependency_file(name) and _mentions_goldenpath(root, commit, path):
            return f"goldenpath version changed: {path}"
    return None


# -- the report --------------------------------------------------------------------------------


def _spec_id(path: str, golden_paths: str) -> str | None:
    """The guide id of a spec path ``<golden_paths>/<id>/guide.yaml``, else None."""
    prefix = golden_paths + "/" if golden_paths not in ("", ".") else ""
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split("/")
    return parts[0] if len(parts) == 2 and parts[1] == model.SPEC_FILE else None


def affected(base: str, settings: config.Settings) -> AffectedReport:
    """The guides whose rendered output changes between ``base`` and the working tree."""
    root = repo_root(settings.root)
    commit = merge_base(root, base)
    changes = changed_files(root, commit)
    gp_dir = settings.golden_paths_dir.resolve()
    gp_rel = _relative(gp_dir, root)
    if gp_rel is None:
        raise UserError(
            [
                Problem(
                    gp_dir,
                    None,
                    "",
                    f"the golden-paths folder is outside the git repository {root}",
                    "pass --golden-paths inside the repository",
                )
            ]
        )
    guides, _ = spec.collect_guides(gp_dir)
    loaded = {g.id for g in guides}
    everything = everything_reason(settings, root, commit, changes)

    found: dict[str, AffectedGuide] = {}

    def add(guide_id: str, status: Status, reason: str, folder: str, previous: str | None = None) -> None:
        current = found.get(guide_id)
        if current is None:
            found[guide_id] = AffectedGuide(guide_id, status, (reason,), folder, previous)
        elif reason not in current.reasons:
            found[guide_id] = dataclasses.replace(current, reasons=(*current.reasons, reason))

    prefix = gp_rel + "/" if gp_rel != "." else ""
    # Guides that were added, removed or renamed, from their spec files.
    for change in changes:
        new_id = _spec_id(change.path, gp_rel)
        old_id = _spec_id(change.old_path, gp_rel) if change.old_path else None
        if change.status == "D" and new_id:
            add(new_id, "removed", f"spec {change.path} deleted", prefix + new_id)
        elif change.status == "R" and old_id and new_id and old_id != new_id:
            add(old_id, "removed", f"renamed to {new_id}", prefix + old_id)
            add(new_id, "renamed", f"renamed from {old_id} ({change.old_path})", prefix + new_id, old_id)
        elif change.status == "R" and new_id and not old_id:
            add(new_id, "added", f"spec {change.path} moved from {change.old_path}", prefix + new_id)
        elif change.status == "R" and old_id and not new_id:
            add(old_id, "removed", f"spec {change.old_path} moved to {change.path}", prefix + old_id)
        elif change.status == "A" and new_id:
            add(new_id, "added", f"spec {change.path} added", prefix + new_id)
    # A renamed guide's old id is reported once, as the rename.
    renamed_from = {g.previous_id for g in found.values() if g.status == "renamed"}
    for old in renamed_from:
        found.pop(old or "", None)

    changed = {p for c in changes for p in c.paths}
    for guide in guides:
        folder = _relative(guide.folder, root) or str(guide.folder)
        if everything:
            add(guide.id, "changed", everything, folder)
            continue
        for path, reason in guide_dependencies(guide, root).items():
            if path in changed:
                add(guide.id, "changed", f"{path} ({reason})", folder)
    # A spec that does not load: anything in its folder may matter; lint says what is wrong.
    for spec_file in spec.find_specs(gp_dir):
        guide_id = spec_file.parent.name
        if guide_id in loaded:
            continue
        folder = _relative(spec_file.parent, root) or str(spec_file.parent)
        for path in sorted(changed):
            if path.startswith(folder + "/") or everything:
                add(guide_id, "changed", everything or f"{path} (the spec does not load)", folder)
                break
    # Guides linking to one that was removed or renamed show a different next step now.
    gone = {g.previous_id or g.id for g in found.values() if g.status in ("removed", "renamed")}
    for guide in guides:
        for nxt in guide.spec.next_steps:
            if nxt.guide in gone and nxt.guide not in loaded:
                add(
                    guide.id,
                    "changed",
                    f"links to {nxt.guide}, which was removed or renamed",
                    _relative(guide.folder, root) or str(guide.folder),
                )

    order = {"renamed": 0, "added": 1, "changed": 2, "removed": 3}
    result = tuple(sorted(found.values(), key=lambda g: (order[g.status], g.id)))
    return AffectedReport(base, commit, root, gp_rel, tuple(changes), result, everything)


def format_text(report: AffectedReport) -> str:
    """The report as lines for a terminal."""
    if not report.guides:
        return (
            f"no guides affected by the changes since {report.base} ({len(report.changes)} changed file(s))\n"
        )
    lines = [
        f"{len(report.guides)} guide(s) affected by the changes since {report.base} "
        f"(merge base {report.merge_base[:12]}):"
    ]
    if report.everything:
        lines.append(f"  every guide: {report.everything}")
    width = max(len(g.id) for g in report.guides)
    for guide in report.guides:
        label = guide.status + (f" from {guide.previous_id}" if guide.previous_id else "")
        reasons = (
            ""
            if report.everything and guide.reasons == (report.everything,)
            else "  " + "; ".join(guide.reasons)
        )
        lines.append(f"  {guide.id:<{width}}  {label}{reasons}")
    return "\n".join(lines) + "\n"


def affected_command(base: str, output_format: str = "text", golden_paths: Path | None = None) -> int:
    """``goldenpath affected``: print the affected guides; always exit 0 when the input is good."""
    settings = config.load_settings(golden_paths=golden_paths)
    report = affected(base, settings)
    if output_format == "json":
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        sys.stdout.write(format_text(report))
    return 0


def guides_to_check(base: str, golden_paths: Path | None = None, explicit: Iterable[str] = ()) -> list[str]:
    """Guide ids ``check --affected`` runs: the affected ones that exist, within ``explicit`` if given."""
    settings = config.load_settings(golden_paths=golden_paths)
    report = affected(base, settings)
    wanted = list(explicit)
    ids = report.to_check
    return [i for i in ids if i in wanted] if wanted else ids
