"""goldenpath: golden-path guides generated from templates and verified by running them."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("goldenpath")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
