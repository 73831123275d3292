"""Read-only git: the repository root, the merge base of a revision, what changed since, old files."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from goldenpath.errors import Problem, UserError

Status = Literal["added", "changed", "removed", "renamed"]


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
