"""Reading what a golden-paths repository gives us, within bounds: a pull request may hold anything.

Specs and templates are read as UTF-8 with a located error otherwise, and no larger than a few
megabytes; YAML is nested no deeper than a spec ever needs. Every limit has a message naming the
file and what to do.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from goldenpath.errors import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Largest spec or template read (a real one is a few kilobytes)."""
MAX_DEPTH = 64
"""Deepest YAML nesting accepted (a spec nests about eight levels)."""
MAX_VALUES = 100_000
"""Most values a YAML document may hold once its aliases are expanded (a spec holds hundreds);
anchors that repeat each other expand exponentially, a "billion laughs"."""


def read_text(file: Path, what: str) -> tuple[str | None, Problem | None]:
    """The file as text, or the problem that stops it being read: missing, too big, not UTF-8."""
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, Problem(
                file,
                None,
                "",
                f"the {what} is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read",
                "split it, or keep large data out of golden paths",
            )
        data = file.read_bytes()
    except OSError as exc:
        return None, Problem(file, None, "", f"cannot read the {what}: {exc.strerror or exc}")
    return decode(file, data, what)


def decode(file: Path, data: bytes, what: str) -> tuple[str | None, Problem | None]:
    """``data`` as UTF-8 text, or a problem at the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem(
            file,
            line,
            "",
            f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "save it as UTF-8",
        )


def out_of_shape(node: yaml.Node) -> tuple[int, str] | None:
    """(line, message) for the first value nested deeper than :data:`MAX_DEPTH`, or where the
    document grows past :data:`MAX_VALUES` values; None when it is within both."""
    stack: list[tuple[yaml.Node, int]] = [(node, 1)]
    seen = 0
    while stack:
        current, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH:
            return current.start_mark.line + 1, f"the YAML is nested more than {MAX_DEPTH} levels deep"
        if seen > MAX_VALUES:
            return (
                current.start_mark.line + 1,
                f"the YAML holds more than {MAX_VALUES:,} values once its aliases are expanded",
            )
        if isinstance(current, yaml.MappingNode):
            stack.extend((value, depth + 1) for _, value in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in current.value)
    return None


def shown(value: object, width: int = 60) -> str:
    """A value as an error message quotes it: long ones cut, so the message stays one short line."""
    text = str(value)
    return text if len(text) <= width else f"{text[: width - 12]}... ({len(text):,} characters)"
