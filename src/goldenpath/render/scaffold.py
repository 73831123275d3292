"""``goldenpath new``: the files a golden path creates, written with the developer's values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from goldenpath.errors import Problem, UserError
from goldenpath.render.renderer import render_guide
from goldenpath.spec import params
from goldenpath.spec.model import Guide


def scaffold(guide: Guide, dest: Path, overrides: Mapping[str, Any]) -> list[Path]:
    """Write the files a guide creates into ``dest`` (``goldenpath new``); nothing on error."""
    if dest.exists() and not dest.is_dir():
        raise UserError(
            [Problem(dest, None, "", "DEST is a file, not a folder", "choose a new or empty folder")]
        )
    values = params.page_values(guide, overrides)
    rendered = render_guide(guide, values)
    written: list[Path] = []
    root = dest.resolve()
    targets = [(dest / f.path, f.content) for f in rendered.files]
    outside = [t for t, _ in targets if not t.resolve().is_relative_to(root)]
    if outside:  # a symlink inside DEST pointing elsewhere
        raise UserError(
            [Problem(t, None, "", "would be written outside DEST", "remove the link") for t in outside]
        )
    existing = [t for t, _ in targets if t.exists() or t.is_symlink()]
    if existing:
        raise UserError(
            [Problem(t, None, "", "file already exists", "choose an empty DEST") for t in existing]
        )
    try:
        for target, content in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            written.append(target)
    except OSError as exc:
        for path in written:  # nothing half-written
            path.unlink(missing_ok=True)
        raise UserError(
            [Problem(exc.filename or dest, None, "", f"cannot write: {exc.strerror}", "")]
        ) from exc
    return written
