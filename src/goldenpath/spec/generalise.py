"""A "you should see" block written from a real run, for accept mode.

Lines of the old block that still match keep their source (placeholders, ``...`` and ``{{ }}``
stay as the author wrote them). Lines the run printed instead are generalised: values that
change from run to run become placeholders (``<hash>``, ``<ip>``, ``<duration>``,
``<timestamp>``, ``<namespace>``, a node port as ``<number>``), the run's parameter and captured
values become their ``{{ name }}``, masked secrets become ``<any>`` (no secret is ever written),
and the column padding of a table with such values becomes `` ... ``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from goldenpath.spec import matching

_TIMESTAMP = re.compile(matching.PLACEHOLDERS["timestamp"])
_IPV4 = re.compile(r"(?<![\w.])(?!127\.0\.0\.1\b|0\.0\.0\.0\b)(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|y))+")
# Kubernetes names generated from an owner: <owner>-<pod-template-hash>-<suffix> for a pod of a
# Deployment, <owner>-<hash> for a ReplicaSet; both draw from an alphabet without vowels.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
# The owner's name may already be a parameter's {{ name }} (kept aside as \x00<n>\x00).
_NAME = r"(?<![\w\x00-])((?:[a-z0-9]|\x00\d+\x00)(?:[-a-z0-9]|\x00\d+\x00)*?)"
_POD = re.compile(rf"{_NAME}-({_SAFE}{{6,10}})-({_SAFE}{{5}})\b")
_OWNED = re.compile(rf"{_NAME}-((?={_SAFE}*\d){_SAFE}{{6,10}})\b")
_HEX = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,}\b")
_NAMESPACE = re.compile(r"\bgp-[a-z0-9-]+-[0-9a-f]{8}\b")
_MASKED = re.compile(r"\*\*\*")
_NODE_PORT = re.compile(r"(?<![\w.])3[0-2]\d{3}(/(?:TCP|UDP|SCTP))\b")  # picked by the cluster
_JINJA = re.compile(r"\{[{%#]")


class AcceptError(ValueError):
    """The block cannot be written from the run (the message says why)."""


def accepted_block(
    source: str,
    render_line: Callable[[str], str],
    actual: str,
    values: Mapping[str, str],
) -> str:
    """The new "you should see" block: ``source`` is the spec's block as written, ``render_line``
    renders one of its lines as the run did, ``actual`` is what the run printed (secrets masked)
    and ``values`` the run's non-secret parameter and captured values by name."""
    if "{%" in source or "{#" in source:
        raise AcceptError("the block uses {% %} or {# #} tags; edit it by hand")
    lines = source.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    rendered = [render_line(line) for line in lines]
    out: list[str] = []
    new: list[str] = []  # the current run of lines the run printed instead
    for tag, text, _, index in matching.align(rendered, actual):
        if tag == "+":
            new.append(generalise(text, values, lines[index] if index >= 0 else ""))
        elif tag == " ":
            out += [*_columns(new), lines[index].rstrip()]
            new = []
    out += _columns(new)
    return "\n".join(out) + "\n" if out else ""


_PADDING = re.compile(r"(?<=\S) {2,}(?=\S)")
_VARYING = re.compile(r"<(?:hash|ip|duration|timestamp|namespace|number|any)>|\}\}")


def _columns(lines: list[str]) -> list[str]:
    """A table's column padding depends on how wide its values are: in lines that form a table
    (two or more, each padded into columns) with a value that changes from run to run, every
    padding becomes `` ... ``, which the matching reads as any text."""
    table = len(lines) >= 2 and all(len(_PADDING.findall(line)) >= 2 for line in lines)
    if not table or not any(_VARYING.search(line) for line in lines):
        return lines
    return [_PADDING.sub(" ... ", line) for line in lines]


def generalise(line: str, values: Mapping[str, str], hint: str = "") -> str:
    """One line of real output as an expected line: run-specific values as placeholders.

    A value shorter than 3 characters (a replica count of 3) becomes ``{{ name }}`` only where
    ``hint``, the expected line it replaces, used that name, or the line names it right before
    the value (``replicas: 3``, ``--replicas=3``).
    """
    kept: list[str] = []

    def keep(replacement: str) -> str:
        kept.append(replacement)
        return f"\x00{len(kept) - 1}\x00"

    line = _MASKED.sub(lambda m: keep("<any>"), line.rstrip())
    line = _NAMESPACE.sub(lambda m: keep("<namespace>"), line)
    line = _TIMESTAMP.sub(lambda m: keep("<timestamp>"), line)
    line = _IPV4.sub(lambda m: keep("<ip>"), line)
    line = _NODE_PORT.sub(lambda m: keep("<number>") + m.group(1), line)
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):  # a pod name first
        wanted = len(value) >= 3 or _named(name, value, line, hint)
        if value and wanted:
            reference = keep("{{ " + name + " }}")
            line = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", reference, line)
    line = _POD.sub(lambda m: m.group(1) + "-" + keep("<hash>") + "-" + keep("<hash>"), line)
    line = _OWNED.sub(lambda m: m.group(1) + "-" + keep("<hash>"), line)
    line = _HEX.sub(lambda m: keep("<hash>"), line)
    line = re.sub(r"(?<![\w.:/-])" + _DURATION.pattern + r"(?![\w.:/-])", lambda m: keep("<duration>"), line)
    line = _JINJA.sub(lambda m: "{{ '" + m.group(0) + "' }}", line)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], line)


def _named(name: str, value: str, line: str, hint: str) -> bool:
    if re.search(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", hint):
        return True
    spelled = "|".join(re.escape(n) for n in {name, name.replace("_", "-"), name.replace("_", "")})
    key = rf"(?i)(?<![A-Za-z0-9_])(?:{spelled})[\"']?\s*[:=]?\s*[\"']?{re.escape(value)}(?![A-Za-z0-9_])"
    return re.search(key, line) is not None
