"""Where in a template a problem comes from: the line of a Jinja2 error, or of a manifest problem
found in the rendered file."""

from __future__ import annotations

import re
from pathlib import Path
from types import TracebackType


def source_line(template: str, rendered: str, line: int) -> int:
    """The template line that most likely produced a rendered line.

    Jinja2 keeps no map from output lines to template lines, and loops or ``{%- %}`` tags shift
    them. A template line whose literal text before its first tag starts the rendered line (a
    YAML key is rarely templated) is taken, the closest one if several match.
    """
    template_lines = template.splitlines()
    rendered_lines = rendered.splitlines()
    if not 0 < line <= len(rendered_lines) or len(template_lines) == len(rendered_lines):
        return line
    text = rendered_lines[line - 1]
    candidates = []
    for number, source in enumerate(template_lines, start=1):
        literal = re.split(r"\{[{%#]", source, maxsplit=1)[0]
        if literal.strip() and text.startswith(literal):
            candidates.append(number)
    return min(candidates, key=lambda n: abs(n - line)) if candidates else line


def template_line(tb: TracebackType | None, template_path: Path) -> int | None:
    """The line in a template file where a Jinja2 error was raised, from Jinja's rewritten frames."""
    line = None
    target = str(template_path)
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
