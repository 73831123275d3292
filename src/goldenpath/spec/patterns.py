"""Regular expressions written in specs, matched in time linear in the text.

Every pattern a spec carries (a parameter's ``pattern``, ``expect.matches``, `` (re)`` output
lines, ``ready.log``, troubleshooting symptoms) comes from a pull request anyone may open, and runs in
``lint``, ``new`` and ``check``. Python's backtracking engine takes exponential time on patterns
such as ``(a+)+$``; RE2 cannot, so no spec can hang the tool, and there is no timeout to tune on a
loaded machine. The price is RE2's syntax: no backreferences and no lookaround, which validation and
output patterns rarely need; a spec using them gets a lint error naming the pattern.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol, cast

import re2  # type: ignore[import-untyped]

MAX_PROGRAM_MEMORY = 8 << 20
"""RE2's memory budget for one compiled pattern (a pattern needing more is refused, not slow)."""


class Match(Protocol):
    def group(self, index: int | str = 0) -> str: ...
    def start(self, index: int = 0) -> int: ...
    def end(self, index: int = 0) -> int: ...


class Pattern(Protocol):
    pattern: str

    def search(self, text: str) -> Match | None: ...
    def fullmatch(self, text: str) -> Match | None: ...


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why, in words."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the reason is in the exception; RE2 would also print it to stderr
    options.max_mem = MAX_PROGRAM_MEMORY
    return options


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str, multiline: bool = False) -> Pattern:
    """Compile a spec's pattern; ``multiline`` makes ``^`` and ``$`` match at each line."""
    try:
        return cast(Pattern, re2.compile(("(?m)" if multiline else "") + pattern, _options()))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(_explain(str(reason))) from None
    except (TypeError, ValueError) as exc:  # e.g. a NUL byte the wrapper refuses
        raise PatternError(str(exc)) from None


def pattern_problem(pattern: str) -> str:
    """Why ``pattern`` cannot be used, or "" when it can."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return ""


def _explain(reason: str) -> str:
    if any(f"invalid perl operator: {op}" in reason for op in ("(?=", "(?!", "(?<=", "(?<!")):
        return f"{reason} (lookaround is not supported: patterns run on RE2, in linear time)"
    if "invalid escape sequence: \\" in reason and reason[-1:].isdigit():
        return f"{reason} (backreferences are not supported: patterns run on RE2, in linear time)"
    if "pattern too large" in reason:
        return f"{reason} (the pattern needs more than {MAX_PROGRAM_MEMORY >> 20} MiB; simplify it)"
    return reason
