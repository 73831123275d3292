"""Both sides of a change: the guides rendered at the base revision and in the working tree.

The base side is read with ``git archive`` into a temporary folder and rendered with the current
goldenpath, so only the guides' own changes show. Check results come from a JUnit or JSON file.
"""

from __future__ import annotations

import difflib
import io
import json
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath import config
from goldenpath.errors import Problem, UserError
from goldenpath.render import renderer
from goldenpath.review.git import git
from goldenpath.site.page import PageBuilder
from goldenpath.spec.model import Guide
from goldenpath.spec.urls import page_uri


@dataclass
class Side:
    """One guide rendered at one revision: its page, its manifests, or why it did not render."""

    guide: Guide | None = None
    page: str | None = None
    page_uri: str = ""
    manifests: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckOutcome:
    outcome: str
    message: str = ""
    coverage: str = ""
    """``full``, ``partial`` or ``simulated`` for a pass, with what ran: from the JUnit properties."""


# -- the base revision -------------------------------------------------------------------------


def _member_filter() -> Any:
    data_filter = getattr(tarfile, "data_filter", None)

    def safe(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        if data_filter is None:  # pragma: no cover - Python before 3.11.4
            return None if member.issym() and member.linkname.startswith("/") else member
        try:
            return data_filter(member, dest)  # type: ignore[no-any-return]
        except tarfile.FilterError:
            return None  # a link out of the repository: leave it out

    return safe


def _extract(root: Path, commit: str, paths: Sequence[str], dest: Path) -> None:
    listed = git(root, "ls-tree", "-r", "-z", "--name-only", commit, "--", *paths)
    present = sorted({p for p in listed.split("\0") if p})
    if not present:
        return
    data = git(root, "archive", "--format=tar", commit, "--", *present, binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(dest, filter=_member_filter())


@contextmanager
def base_tree(root: Path, commit: str, paths: Sequence[str]) -> Iterator[Path]:
    """A temporary folder holding ``paths`` (and what their symlinks point at) as at ``commit``."""
    with tempfile.TemporaryDirectory(prefix="goldenpath-review-") as tmp:
        dest = Path(tmp)
        _extract(root, commit, paths, dest)
        done = set(paths)
        for _ in range(5):  # symlinks into folders that were not extracted yet, a few levels deep
            wanted = set()
            for link in (p for p in dest.rglob("*") if p.is_symlink()):
                target = (link.parent / link.readlink()).resolve()
                if not target.exists() and dest in target.parents:
                    relative = target.relative_to(dest).as_posix()
                    if relative not in done:
                        wanted.add(relative)
            if not wanted:
                break
            done |= wanted
            _extract(root, commit, sorted(wanted), dest)
        yield dest


# -- rendering ---------------------------------------------------------------------------------


def render_side(
    guides: Sequence[Guide], ids: set[str], settings: config.Settings, template_dir: Path | None
) -> dict[str, Side]:
    """Pages and manifests of the guides ``ids`` among ``guides``."""
    links = {g.id: (page_uri(g), g.metadata.title) for g in guides}
    sides: dict[str, Side] = {}
    try:
        builder: PageBuilder | None = PageBuilder(template_dir=template_dir, repo_url=settings.repo_url)
    except UserError as exc:
        builder = None
        broken = [str(p) for p in exc.problems]
    for guide in guides:
        if guide.id not in ids:
            continue
        side = Side(guide, page_uri=page_uri(guide))
        sides[guide.id] = side
        try:
            rendered = renderer.render_guide(guide, kubernetes_version=settings.kubernetes_version)
            side.manifests = {f.path: f.content for f in rendered.files if f.is_manifest}
            if builder is None:
                side.problems += broken
            else:
                side.page = builder.guide_page(rendered, links).markdown
        except UserError as exc:
            side.problems += [str(p) for p in exc.problems]
    return sides


def unified(old: str | None, new: str | None, old_name: str, new_name: str) -> str:
    """A unified diff of two texts; empty when they are equal."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile=f"a/{old_name}" if old is not None else "/dev/null",
        tofile=f"b/{new_name}" if new is not None else "/dev/null",
    )
    text = "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
    return text


# -- check results -----------------------------------------------------------------------------


def load_results(path: Path) -> dict[str, CheckOutcome]:
    """Outcomes by guide id from a JUnit XML file (``goldenpath check --junit``) or JSON.

    JSON is a list of objects (or ``{"guides": [...]}``) with ``guide`` (or ``id``) and
    ``outcome`` (or ``status``) and an optional ``message``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(
            [
                Problem(
                    path,
                    None,
                    "",
                    f"cannot read the results: {exc.strerror}",
                    "pass the file 'goldenpath check --junit FILE' wrote",
                )
            ]
        ) from exc
    if text.lstrip().startswith(("{", "[")):
        return _json_results(path, text)
    try:
        tree = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UserError(
            [
                Problem(
                    path,
                    exc.position[0],
                    "",
                    f"not JUnit XML or JSON: {exc}",
                    "pass the file 'goldenpath check --junit FILE' wrote",
                )
            ]
        ) from exc
    found: dict[str, CheckOutcome] = {}
    for case in tree.iter("testcase"):
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        guide_id = props.get("guide") or (case.get("name") or "").split("::")[-1].strip("[]")
        outcome = props.get("outcome") or "passed"
        message = ""
        for tag, default in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(tag)
            if element is not None:
                outcome = props.get("outcome") or element.get("type") or default
                outcome = outcome if outcome in ("failed", "error", "timeout", "skipped") else default
                message = element.get("message", "")
                break
        coverage = props.get("coverage", "")
        if coverage and props.get("coverage.summary"):
            coverage += f": {props['coverage.summary']}"
        found[guide_id] = CheckOutcome(outcome, message, coverage)
    return found


def _json_results(path: Path, text: str) -> dict[str, CheckOutcome]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError([Problem(path, exc.lineno, "", f"invalid JSON: {exc.msg}", "")]) from exc
    if isinstance(data, Mapping):
        data = data.get("guides", data.get("results", []))
    found = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, Mapping):
            continue
        guide_id = item.get("guide") or item.get("guide_id") or item.get("guideId") or item.get("id")
        outcome = item.get("outcome") or item.get("status") or "unknown"
        if guide_id:
            found[str(guide_id)] = CheckOutcome(str(outcome), str(item.get("message") or ""))
    return found
