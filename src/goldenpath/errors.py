"""Errors and exit codes shared by every entry point.

Only the CLI turns these into exit codes and short red lines; library code raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Exit codes of the interface contract.
EXIT_OK = 0
EXIT_BROKEN = 1  # at least one guide is broken
EXIT_BAD_INPUT = 2  # spec, template, parameters or usage
EXIT_INFRA = 3  # sandbox or infrastructure failed
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input, pointing at where it is."""

    file: Path | str
    line: int | None
    path: str
    """Dotted path inside the file, e.g. ``spec.steps[2].run``; empty for the whole file."""
    message: str
    hint: str = ""

    def location(self) -> str:
        where = str(self.file)
        return f"{where}:{self.line}" if self.line else where

    def __str__(self) -> str:
        text = f"{self.location()}: " if str(self.file) else ""
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class GoldenPathError(Exception):
    """Base class of every error goldenpath raises on purpose."""

    exit_code = EXIT_INFRA


class UserError(GoldenPathError):
    """Bad input: a spec, template, parameter or command-line usage. Exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[Problem] | str) -> None:
        # A bare message is a problem without a place (a command-line usage error).
        if isinstance(problems, str):
            problems = [Problem("", None, "", problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SandboxError(GoldenPathError):
    """The sandbox or a tool it needs is broken: not the guide's fault. Exit code 3."""

    exit_code = EXIT_INFRA
