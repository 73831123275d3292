"""Build and serve the site through MkDocs' Python API, as ``mkdocs build`` / ``mkdocs serve`` do.

Differences from the plain MkDocs commands: builds are strict by default (a broken link or a
warning fails the build, as it does in CI), and a failed build is reported as short error lines
(exit 2 from the CLI), never a traceback.

``golden_paths`` (the CLI's ``--golden-paths DIR``) reaches the plugin through the environment
variable :data:`GOLDEN_PATHS_ENV`, which also works with the plain ``mkdocs`` commands: it wins
over the plugin's ``golden_paths`` option and ``[tool.goldenpath] golden_paths``, and a relative
folder is relative to the current directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from goldenpath.config import find_root
from goldenpath.errors import UserError
from goldenpath.interrupts import sigterm_as_interrupt

CONFIG_FILE = "mkdocs.yml"
GOLDEN_PATHS_ENV = "GOLDENPATH_GOLDEN_PATHS"
"""Folder of golden paths the site is built from, over every setting (relative: to the cwd)."""


class _Lines(logging.Handler):
    """Prints MkDocs' log records as ``LEVEL - message`` lines, as the mkdocs command does."""

    def __init__(self, stream: TextIO, level: int) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.shown = level

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a plugin's malformed log call must not end the build
            message = str(record.msg)
        if record.levelno >= self.shown:
            print(f"{record.levelname:<7} -  {message}", file=self.stream)


@contextlib.contextmanager
def _mkdocs_logging(quiet: bool) -> Iterator[_Lines]:
    logger = logging.getLogger("mkdocs")
    handler = _Lines(sys.stderr, logging.WARNING if quiet else logging.INFO)
    previous = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if not quiet else logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]


@contextlib.contextmanager
def _golden_paths(folder: Path | None) -> Iterator[None]:
    """Point the plugin at ``folder`` (resolved here, against the cwd) while the block runs."""
    if folder is None:
        yield
        return
    previous = os.environ.get(GOLDEN_PATHS_ENV)
    os.environ[GOLDEN_PATHS_ENV] = str(folder.resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(GOLDEN_PATHS_ENV, None)
        else:
            os.environ[GOLDEN_PATHS_ENV] = previous


def config_file(path: Path | None = None) -> Path:
    """The MkDocs config to use: ``path``, else ``mkdocs.yml`` here or in the project root."""
    found = path or Path(CONFIG_FILE)
    if path is None and not found.is_file():
        found = find_root() / CONFIG_FILE
    if not found.is_file():
        raise UserError(
            f"no MkDocs config at {found} (run in the folder holding mkdocs.yml, or pass --config-file)"
        )
    return found


def build_site(
    path: Path | None = None,
    *,
    strict: bool = True,
    site_dir: Path | None = None,
    quiet: bool = False,
    golden_paths: Path | None = None,
) -> Path:
    """Build the site (from ``golden_paths`` when given); return its folder.

    Raise :class:`UserError` with the lines that failed it.
    """
    # MkDocs is imported when a site is built, not when the CLI starts: most commands never need it.
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    options: dict[str, Any] = {"config_file": str(config_file(path)), "strict": strict}
    if site_dir is not None:
        options["site_dir"] = str(site_dir.resolve())
    with _mkdocs_logging(quiet), _golden_paths(golden_paths):
        try:
            config = load_config(**options)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build(config)
            finally:
                config.plugins.on_shutdown()
        except (MkDocsException, OSError) as exc:
            # The warnings and errors that failed it were printed as they happened.
            raise UserError(f"the site did not build: {exc}") from None
    return Path(config.site_dir)


def serve_site(
    path: Path | None = None,
    *,
    dev_addr: str | None = None,
    strict: bool = False,
    open_in_browser: bool = False,
    golden_paths: Path | None = None,
) -> None:
    """Serve the site with live reload until Ctrl-C; golden paths and templates are watched too.

    A spec that breaks while serving does not stop the server: the plugin keeps the last good
    pages and shows the problems on every page and in the terminal until they are fixed.
    """
    # Imported here for the same reason as in build_site.
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    options: dict[str, Any] = {"strict": strict, "open_in_browser": open_in_browser}
    if dev_addr:
        options["dev_addr"] = dev_addr
    with _mkdocs_logging(quiet=False), sigterm_as_interrupt(), _golden_paths(golden_paths):
        try:
            mkdocs_serve(config_file=str(config_file(path)), **options)
        except (MkDocsException, OSError) as exc:
            raise UserError(f"the site cannot be served: {exc}") from None
