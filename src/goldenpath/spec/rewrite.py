"""Rewrite one scalar of a YAML document in place, for accept mode: a step's ``expect.output`` is
replaced by what a real run printed while comments, key order, blank lines, block style and every
other byte of the guide stay exactly as they were.
"""

from __future__ import annotations

import re

import yaml

_PATH = re.compile(r"[^.\[\]]+(\[\d+\])*(\.[^.\[\]]+(\[\d+\])*)*")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PROPERTIES = re.compile(r"(?:[&!][^ \t\n]*[ \t]+)*")  # an anchor or tag before the value
_INDICATOR = re.compile(r"[|>][-+0-9]*")
_LINE_BREAKS = "\n\r\x85\u2028\u2029"
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_PRINTABLE = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


class RewriteError(Exception):
    """The value cannot be rewritten in place (path not found, not a scalar, ...)."""


def replace_scalar(text: str, path: str, value: str) -> str:
    """``text`` with the scalar at dotted ``path`` replaced by ``value``.

    In a block collection the new value is a literal block scalar (a double-quoted one when a
    block cannot hold it exactly); inside a flow collection it is double-quoted. The result is
    checked: it loads back to ``value`` at ``path``.
    """
    if not _PATH.fullmatch(path):
        raise RewriteError(f"{path}: not a dotted path like spec.steps[0].expect.output")
    steps: list[str | int] = [int(i) if i else k for k, i in _STEP.findall(path)]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise RewriteError(f"{path}: the document is not valid YAML ({_first_line(error)})") from None
    parent, key, node = _find(root, steps, path)
    start = _PROPERTIES.match(text, node.start_mark.index).end()  # type: ignore[union-attr]
    if parent.flow_style:
        candidates = [text[:start] + _quoted(value) + text[node.end_mark.index :]]
    else:
        candidates = _block_candidates(text, parent, key, node, start, value)
    for candidate in candidates:
        if _loads_back(candidate, steps, path, value):
            return candidate
    raise RewriteError(f"{path}: the new value cannot be written in place")


def _block_candidates(
    text: str,
    parent: yaml.CollectionNode,
    key: yaml.Node | None,
    node: yaml.ScalarNode,
    start: int,
    value: str,
) -> list[str]:
    """A literal block scalar, then a double-quoted scalar, for a value in block context."""
    # The parent's indentation: the key's column, or the column of the sequence's dashes.
    parent_indent = (key or parent).start_mark.column
    indent = parent_indent + 2
    if node.style in ("|", ">"):
        header = _INDICATOR.match(text, start)
        if header is None:  # not where the node starts: give up rather than guess
            return []
        head_end = header.end()
        rest_end = _line_end(text, head_end)
        digits = re.sub(r"\D", "", header.group())
        old_indent = parent_indent + int(digits) if digits else None
        # The end mark follows the trailing blank lines (a `|+` block owns them): replace up to the
        # last content line only. Cut back to a line start should a loader end it mid-indentation.
        end = node.end_mark.index
        body_start = min(rest_end + 1, len(text))
        cut = end if end == len(text) else text.rfind("\n", 0, end) + 1
        lines = text[body_start:cut].split("\n") if cut > body_start else []
        if old_indent is None:
            old_indent = next((len(x) - len(x.lstrip(" ")) for x in lines if x.strip()), None)
        after = body_start
        if old_indent is not None:
            indent, pos = old_indent, body_start
            for line in lines:
                pos += len(line) + 1
                if len(line) > old_indent:
                    after = min(pos, cut)
    else:
        head_end = node.end_mark.index
        rest_end = _line_end(text, head_end)
        after = min(rest_end + 1, len(text))
    head, rest, tail = text[:start], text[head_end:rest_end], text[after:]
    indicator, content = _literal(value, indent, indent - parent_indent)
    return [
        head + indicator + rest + "\n" + content + tail,
        head + _quoted(value) + rest + text[rest_end:after][:1] + tail,
    ]


def _literal(value: str, indent: int, relative: int) -> tuple[str, str]:
    """The header indicator and the content lines of a literal block scalar holding ``value``."""
    body = value.rstrip("\n")
    breaks = len(value) - len(body)
    chomp = "-" if breaks == 0 else "" if breaks == 1 and body else "+"
    hint = str(relative) if body.lstrip("\n").startswith(" ") and 0 < relative < 10 else ""
    lines = body.split("\n") if body else []
    content = "".join(" " * indent + line + "\n" if line else "\n" for line in lines)
    return "|" + hint + chomp, content + "\n" * (breaks - bool(body))


def _quoted(value: str) -> str:
    """A double-quoted scalar with JSON-style escapes, readable anywhere, also in flow context."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _PRINTABLE.fullmatch(char) and char not in _LINE_BREAKS:
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _find(
    root: yaml.Node | None, steps: list[str | int], path: str
) -> tuple[yaml.CollectionNode, yaml.Node | None, yaml.ScalarNode]:
    """The parent collection, the key node (None in a sequence) and the scalar at ``steps``."""
    node, parent, key = root, None, None
    for step in steps:
        parent, found = node, None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            pairs = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
            key, found = pairs[0] if pairs else (None, None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            key, found = None, node.value[step]
        if found is None:
            raise RewriteError(f"{path}: not found in the document")
        node = found
    if not isinstance(node, yaml.ScalarNode):
        kind = "mapping" if isinstance(node, yaml.MappingNode) else "sequence"
        raise RewriteError(f"{path}: not a scalar but a {kind}")
    assert isinstance(parent, yaml.CollectionNode)
    return parent, key, node


def _loads_back(text: str, steps: list[str | int], path: str, value: str) -> bool:
    try:
        node = _find(yaml.compose(text, Loader=yaml.SafeLoader), steps, path)[2]
    except (yaml.YAMLError, RewriteError):
        return False
    return node.tag == "tag:yaml.org,2002:str" and node.value == value


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _first_line(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem and error.problem_mark:
        return f"{error.problem}, line {error.problem_mark.line + 1}"
    return str(error).strip().split("\n")[0]
