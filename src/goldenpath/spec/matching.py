"""Tolerant "you should see" matching of expected output against a real run.

The expected block is what the page shows. It matches the actual output line by line, with:

- ``...`` on a line of its own: any number of lines (also none);
- ``...`` inside a line: any text;
- placeholders for parts that change from run to run: ``<hash>``, ``<ip>``, ``<duration>``,
  ``<timestamp>``, ``<number>``, ``<namespace>`` (a Kubernetes namespace) and ``<any>``;
- a line ending in `` (re)``: the rest of the line is a regular expression for the whole line.

Trailing whitespace, trailing blank lines, carriage returns and terminal colour codes are ignored.
On a mismatch, :func:`match_output` returns a unified diff in which lines that matched tolerantly
show as context, so only the real differences are marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from goldenpath.spec.patterns import Pattern, PatternError, compile_pattern

SKIP = "..."
REGEX_SUFFIX = " (re)"

_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_IPV6 = rf"(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_IPV4}|[0-9A-Fa-f]{{0,4}})"
_DURATION_UNIT = r"(?:ns|us|µs|ms|s|m|h|d|y)"
_DURATION_WORDS = r"(?:milliseconds?|seconds?|secs?|minutes?|mins?|hours?|days?)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CLOCK = r"\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
_TIMESTAMPS = (
    # ISO 8601 / RFC 3339, also with a space and Python logging's comma: 2026-11-23T18:30:00.123Z
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
    r"\d{4}-\d{2}-\d{2}",
    # Common Log Format: 23/Nov/2026:18:30:00 +0000
    rf"\d{{2}}/{_MONTH}/\d{{4}}:{_CLOCK}(?: [+-]\d{{4}})?",
    # HTTP date and RFC 2822: Sun, 23 Nov 2026 18:30:00 GMT (or +0000, as kubectl describe prints)
    rf"{_DAY}, \d{{1,2}} {_MONTH} \d{{4}} {_CLOCK} (?:[A-Z]{{2,5}}|[+-]\d{{4}})",
    # date(1): Sun Nov 23 18:30:00 UTC 2026; syslog: Nov 23 18:30:00
    rf"(?:{_DAY} )?{_MONTH} [ \d]\d {_CLOCK}(?: [A-Z]{{2,5}})?(?: \d{{4}})?",
    # Go's log package: 2026/11/23 18:30:00
    rf"\d{{4}}/\d{{2}}/\d{{2}} {_CLOCK}",
    # klog: I1123 18:30:00.123456
    rf"[IWEF]\d{{4}} {_CLOCK}",
    _CLOCK,
)

PLACEHOLDERS: dict[str, str] = {
    "hash": r"[0-9A-Za-z]{4,}",
    "ip": rf"(?:{_IPV4}|{_IPV6})",
    "duration": (
        rf"(?:(?:\d+(?:\.\d+)?{_DURATION_UNIT})+|\d+(?:\.\d+)?\s?{_DURATION_WORDS}"
        r"|\d+:\d{2}(?::\d{2})?(?:\.\d+)?)"
    ),
    "timestamp": "(?:" + "|".join(_TIMESTAMPS) + ")",
    "number": r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    "namespace": r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?",
    "any": r".*?",
}
"""Placeholder name -> the regular expression it stands for."""

_UNMATCHED = 1 << 20
_CHANGE_WEIGHT = 64
"""How much cheaper pairing two lines is when they share every word (a skip costs 1 a line)."""
_TOKEN = re.compile(r"\.\.\.|<(" + "|".join(PLACEHOLDERS) + r")>")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class MatchResult:
    """Whether the output matched, and a readable diff when it did not."""

    ok: bool
    diff: str = ""


def line_pattern(line: str) -> Pattern:
    """The regular expression one expected line stands for (raises PatternError for a bad `` (re)``)."""
    if line.endswith(REGEX_SUFFIX):
        return compile_pattern(line[: -len(REGEX_SUFFIX)])
    parts: list[str] = []
    position = 0
    for token in _TOKEN.finditer(line):
        parts.append(re.escape(line[position : token.start()]))
        name = token.group(1)
        parts.append(PLACEHOLDERS[name] if name else r".*?")
        position = token.end()
    parts.append(re.escape(line[position:]))
    return compile_pattern("".join(parts))


def check_pattern(expected: str) -> list[str]:
    """Problems with an expected block (invalid `` (re)`` lines), for linting before a run."""
    problems = []
    for number, line in enumerate(_lines(expected), start=1):
        if line.endswith(REGEX_SUFFIX):
            try:
                line_pattern(line)
            except PatternError as exc:
                problems.append(f"line {number}: invalid regular expression: {exc}")
    return problems


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in _ANSI.sub("", text).replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def match_output(expected: str, actual: str) -> MatchResult:
    """Match ``actual`` output against an ``expected`` "you should see" block."""
    want = _lines(expected)
    got = _lines(actual)
    if want == got and all(map(_literal, want)):
        return MatchResult(True)  # the very text, nothing tolerant in it: no pattern needed
    try:
        patterns: list[Pattern | None] = [
            None if line.strip() == SKIP else line_pattern(line) for line in want
        ]
    except PatternError as exc:
        return MatchResult(False, f"invalid regular expression in the expected output: {exc}")
    if _fast_match(patterns, got):
        return MatchResult(True)
    ops = _align(want, patterns, got)
    if all(tag == " " for tag, _, _, _ in ops):
        return MatchResult(True)
    return MatchResult(False, _render(ops))


def _literal(line: str) -> bool:
    """Whether an expected line matches only itself (and its pattern surely compiles)."""
    return (
        len(line) < 1000 and "\0" not in line and not line.endswith(REGEX_SUFFIX) and not _TOKEN.search(line)
    )


def align(expected_lines: list[str], actual: str) -> list[Op]:
    """How actual output lines line up with expected lines (see :func:`_align`), for accept mode."""
    patterns = [None if line.strip() == SKIP else line_pattern(line) for line in expected_lines]
    return _align(expected_lines, patterns, _lines(actual))


def _fast_match(patterns: list[Pattern | None], got: list[str]) -> bool:
    """The common case: no skips and every line matches in place."""
    if len(patterns) != len(got) or any(p is None for p in patterns):
        return False
    return all(p is not None and p.fullmatch(line) for p, line in zip(patterns, got, strict=True))


Op = tuple[str, str, int, int]
"""A diff operation: tag, text, index of the actual line it sits at, index of the expected line
it stands for (-1 for an actual line no expected line stands for)."""


def _align(want: list[str], patterns: list[Pattern | None], got: list[str]) -> list[Op]:
    """Align expected and actual lines with the fewest unmatched lines (an edit distance).

    A skip line absorbs any number of actual lines. Returns diff operations:
    ``" "`` context (a matched line, shown as actually printed), ``"-"`` expected only,
    ``"+"`` actual only (after a ``"-"`` at the same actual line: what came instead of it).
    """
    n, m = len(want), len(got)
    matches: dict[tuple[int, int], bool] = {}

    def matched(i: int, j: int) -> bool:
        key = (i, j)
        if key not in matches:
            pattern = patterns[i]
            matches[key] = pattern is not None and pattern.fullmatch(got[j]) is not None
        return matches[key]

    # cost[i][j]: the cheapest alignment of want[i:] with got[j:]. An unmatched line costs
    # UNMATCHED, a line absorbed by a skip costs 1: fewest unmatched lines first, then as many
    # lines as possible paired with expected lines, which keeps the diff readable. An expected
    # line may also be paired with an actual line it does not match (a change, one UNMATCHED),
    # so a wrong line after a skip shows both sides instead of vanishing into the skip; the more
    # words the two share, the cheaper the change, so a changed line pairs with its likeness
    # (still far dearer than the 1 a line a skip costs, so skips keep absorbing noise).
    want_words = [set(line.split()) for line in want]
    got_words = [set(line.split()) for line in got]

    def change(i: int, j: int) -> int:
        shared = len(want_words[i] & got_words[j])
        most = max(len(want_words[i]), len(got_words[j]), 1)
        return _UNMATCHED - _CHANGE_WEIGHT * shared // most

    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m - 1, -1, -1):
        cost[n][j] = cost[n][j + 1] + _UNMATCHED
    for i in range(n - 1, -1, -1):
        skip = patterns[i] is None
        cost[i][m] = cost[i + 1][m] + (0 if skip else _UNMATCHED)
        row, below = cost[i], cost[i + 1]
        for j in range(m - 1, -1, -1):
            if skip:
                row[j] = min(below[j], row[j + 1] + 1)
            elif matched(i, j):
                row[j] = min(below[j + 1], min(below[j], row[j + 1]) + _UNMATCHED)
            else:
                row[j] = min(min(below[j], row[j + 1]) + _UNMATCHED, below[j + 1] + change(i, j))

    ops: list[Op] = []
    i = j = 0
    while i < n or j < m:
        if i < n and patterns[i] is None:
            if j < m and cost[i][j + 1] + 1 <= cost[i + 1][j]:
                j += 1  # absorbed by the skip: not shown
                continue
            ops.append((" ", want[i], j, i))
            i += 1
        elif i < n and j < m and matched(i, j) and cost[i][j] == cost[i + 1][j + 1]:
            ops.append((" ", got[j], j, i))
            i += 1
            j += 1
        elif i < n and (j == m or cost[i][j] == cost[i + 1][j] + _UNMATCHED):
            ops.append(("-", want[i], j, i))
            i += 1
        elif i == n or cost[i][j] == cost[i][j + 1] + _UNMATCHED:
            ops.append(("+", got[j], j, -1))
            j += 1
        else:  # a changed line: what was expected, then what came instead
            ops.append(("-", want[i], j, i))
            ops.append(("+", got[j], j, i))
            i += 1
            j += 1
    return ops


def _render(ops: list[Op], context: int = 3) -> str:
    """A unified diff (``--- expected``/``+++ actual``) with ``context`` lines around changes."""
    changed = [k for k, (tag, _, _, _) in enumerate(ops) if tag != " "]
    keep: set[int] = set()
    for k in changed:
        keep.update(range(max(0, k - context), min(len(ops), k + context + 1)))
    out = ["--- expected", "+++ actual"]
    previous = -2
    for k in sorted(keep):
        tag, text, line, _ = ops[k]
        if k != previous + 1:
            out.append(f"@@ output line {line + 1} @@")
        out.append(f"{tag}{text}")
        previous = k
    return "\n".join(out)
