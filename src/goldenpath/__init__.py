"""goldenpath: golden-path guides generated from templates and verified by running them."""

from __future__ import annotations

__version__ = "0.1.0"
"""The version of pyproject.toml (a test keeps them equal): a constant, because reading the
installed metadata costs ``goldenpath --version`` more than the rest of its start-up."""
