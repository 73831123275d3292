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
    values = params.page_values(guide, overrides)
    rendered = render_guide(guide, values)
    written: list[Path] = []
    targets = [(dest / f.path, f.content) for f in rendered.files]
    existing = [t for t, _ in targets if t.exists()]
    if existing:
        raise UserError(
            [Problem(t, None, "", "file already exists", "choose an empty DEST") for t in existing]
        )
    for target, content in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written
