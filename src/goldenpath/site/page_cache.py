"""What a site build keeps in ``.goldenpath/cache`` so the next build skips unchanged work.

Two layers, each keyed by everything its result depends on:

- the rendered guides of a folder of golden paths: the bytes of every file under it, the
  Kubernetes version manifests are validated against, and the code that renders them (the
  goldenpath package's files and the Jinja2 version). One entry, replaced when any of it changes;
- each guide's page: the rendered guide's key, its status report (the run history's figures and
  the day, since pages count days), the titles its next steps link to, and the page settings.
  One entry per guide, replaced when its page changes.

The site is built from specs and placeholders, never from secret values, so no secret reaches the
cache. Entries are pickles written atomically; one that cannot be read is ignored and rebuilt.
The cache only saves time: without it (or with a broken one) the build is the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

import goldenpath

_PACKAGE = Path(goldenpath.__file__).resolve().parent


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _files(folder: Path) -> list[tuple[str, str]]:
    """(path relative to ``folder``, full path) of every file under it, sorted; os.walk, as
    pathlib's rglob costs more than reading the files."""
    found = []
    for where, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        relative = os.path.relpath(where, folder)
        for name in names:
            found.append((name if relative == "." else f"{relative}/{name}", os.path.join(where, name)))
    return sorted(found)


def code_key() -> str:
    """The code that turns specs into pages: the package's files (path, size, modification
    time), goldenpath's and Jinja2's versions. An edited module or template changes it."""
    parts = [goldenpath.__version__.encode(), jinja2.__version__.encode()]
    for relative, path in _files(_PACKAGE):
        stat = os.stat(path)
        parts.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return _digest(parts)


def folder_key(folder: Path, *settings: str) -> str:
    """Every file under ``folder`` (its path and bytes), plus ``settings``."""
    parts = [s.encode() for s in settings]
    for relative, path in _files(folder):
        parts.append(relative.encode())
        with open(path, "rb") as handle:
            parts.append(handle.read())
    return _digest(parts)


def value_key(*values: Any) -> str:
    """A key of plain values (strings, numbers, dates, tuples, dataclasses of them)."""
    return _digest([pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)])


class PageCache:
    """The cache folder of one project; every method is a no-op without one."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            with contextlib.suppress(OSError):
                (folder / "pages").mkdir(parents=True, exist_ok=True)

    def _read(self, path: Path, key: str) -> Any:
        try:
            stored_key, value = pickle.loads(path.read_bytes())
        except Exception:  # missing, from another version, truncated: rebuild
            return None
        return value if stored_key == key else None

    def _write(self, path: Path, key: str, value: Any) -> None:
        try:
            data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # a value that cannot be pickled is simply not cached
            return
        with contextlib.suppress(OSError):
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)

    def rendered(self, key: str) -> Any:
        """The rendered guides stored under ``key``, or None."""
        return None if self.folder is None else self._read(self.folder / "rendered.pickle", key)

    def store_rendered(self, key: str, rendered: Any) -> None:
        if self.folder is not None:
            self._write(self.folder / "rendered.pickle", key, rendered)

    def page(self, guide_id: str, key: str) -> Any:
        """The page of ``guide_id`` stored under ``key``, or None."""
        return None if self.folder is None else self._read(self._page_path(guide_id), key)

    def store_page(self, guide_id: str, key: str, page: Any) -> None:
        if self.folder is not None:
            self._write(self._page_path(guide_id), key, page)

    def _page_path(self, guide_id: str) -> Path:
        assert self.folder is not None
        return self.folder / "pages" / f"{guide_id}.pickle"


def links_key(links: Mapping[str, tuple[str, str]]) -> str:
    """The (page, title) of every guide: what next-step links show."""
    return value_key(tuple(sorted(links.items())))
