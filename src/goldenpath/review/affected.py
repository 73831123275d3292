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
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from goldenpath import config
from goldenpath.errors import Problem, UserError
from goldenpath.review.dependencies import guide_dependencies, relative
from goldenpath.review.git import Change, Status, changed_files, git, merge_base, repo_root, show
from goldenpath.spec import loader, model

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""goldenpath's own source: when it lies inside the repository, a change to it affects every guide."""

_DEPENDENCY_FILES = ("requirements", "constraints")
_LOCK_SUFFIXES = (".lock",)


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
    package = relative(PACKAGE_DIR, root) if root in PACKAGE_DIR.parents else None
    override = page_template_dir(settings)
    override_rel = relative(override, root) if override is not None else None
    pyproject = relative(settings.root / "pyproject.toml", root)
    mkdocs = relative(settings.root / "mkdocs.yml", root)
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
    gp_rel = relative(gp_dir, root)
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
    guides, _ = loader.collect_guides(gp_dir)
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
        folder = relative(guide.folder, root) or str(guide.folder)
        if everything:
            add(guide.id, "changed", everything, folder)
            continue
        for path, reason in guide_dependencies(guide, root).items():
            if path in changed:
                add(guide.id, "changed", f"{path} ({reason})", folder)
    # A spec that does not load: anything in its folder may matter; lint says what is wrong.
    for spec_file in loader.find_specs(gp_dir):
        guide_id = spec_file.parent.name
        if guide_id in loaded:
            continue
        folder = relative(spec_file.parent, root) or str(spec_file.parent)
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
                    relative(guide.folder, root) or str(guide.folder),
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
