"""The code-block language of a created file on the page, from its name."""

from __future__ import annotations

from pathlib import PurePosixPath

_LANGUAGES = {
    ".py": "python",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".sh": "bash",
    ".md": "markdown",
    ".go": "go",
    ".js": "javascript",
    ".ts": "typescript",
    ".txt": "text",
    ".cfg": "ini",
    ".ini": "ini",
    ".html": "html",
    ".env": "bash",
}
_FILE_LANGUAGES = {"Dockerfile": "dockerfile", "Makefile": "makefile"}


def language_of(path: str) -> str:
    """``python`` for ``app.py``, ``dockerfile`` for ``Dockerfile``, ``text`` when unknown."""
    name = PurePosixPath(path)
    return _FILE_LANGUAGES.get(name.name) or _LANGUAGES.get(name.suffix, "text")
