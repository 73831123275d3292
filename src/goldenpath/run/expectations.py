"""What a step must produce, checked against what it did: text, "you should see", JSON, files."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.run.results import StepOutcome
from goldenpath.spec import matching
from goldenpath.spec.model import Expect
from goldenpath.spec.patterns import compile_pattern


@dataclass
class Attempt:
    """What one attempt at a step produced, before masking."""

    outcome: StepOutcome
    message: str = ""
    command: str = ""
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    expected: str = ""
    wrong_output: bool = False
    """It failed on what the output says, not on a condition (an exit code, a missing file):
    retried output that stays the same will not change, so a retry may stop early."""

    def fail(self, problem: tuple[str, str] | None, wrong_output: bool = False) -> Attempt:
        """Mark the attempt failed with (message, expected) when there is a problem."""
        if problem is not None:
            self.outcome = "failed"
            self.message, self.expected = problem
            self.wrong_output = wrong_output
        return self

    def check_output(self, expect: Expect, stdout: str, stderr: str, cwd: Path) -> Attempt:
        """Every output and file expectation; ``stdout`` and ``stderr`` together are "the output"."""
        both = stdout + ("\n" if stdout and not stdout.endswith("\n") else "") + stderr
        text = check_text(expect, stdout, stderr, both)
        if text is not None:
            return self.fail(text, wrong_output=True)
        return self.fail(check_files(expect, cwd))


def check_text(expect: Expect, stdout: str, stderr: str, both: str) -> tuple[str, str] | None:
    """The first unmet text expectation as (message, expected), or None."""
    for text in expect.contains:
        if text not in both:
            return f"output does not contain {text!r}", f"output containing {text!r}"
    for text in expect.not_contains:
        if text in both:
            return f"output contains {text!r}", f"output without {text!r}"
    for pattern in expect.matches:
        if compile_pattern(pattern, multiline=True).search(both) is None:
            return (
                f"output does not match the regular expression {pattern!r}",
                f"output matching {pattern!r}",
            )
    if expect.output is not None:
        first = matching.match_output(expect.output, stdout)
        if first.ok:
            return None
        for candidate in (stderr, both):
            if candidate and matching.match_output(expect.output, candidate).ok:
                return None
        diff = first.diff
        if not stdout.strip() and stderr.strip():
            diff = matching.match_output(expect.output, stderr).diff
        return 'output differs from "you should see"', diff
    return None


def only_output_differs(expect: Expect, attempt: Attempt, http: bool, cwd: Path) -> bool:
    """Whether a failed attempt met every expectation but its "you should see" block."""
    if not attempt.wrong_output or expect.output is None:
        return False
    rest = dataclasses.replace(expect, output=None)
    if http:
        body = attempt.stdout
        return (check_text(rest, body, "", body) or check_json(rest, body)) is None
    if attempt.exit_code != (expect.exit_code or 0):
        return False
    both = attempt.stdout + "\n" + attempt.stderr
    return check_text(rest, attempt.stdout, attempt.stderr, both) is None and check_files(rest, cwd) is None


def check_json(expect: Expect, body: str) -> tuple[str, str] | None:
    if not expect.json:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return "response body is not JSON", "a JSON body with " + ", ".join(expect.json)
    for path, wanted in expect.json.items():
        found, value = json_path(data, path)
        if not found:
            return f"JSON field {path} is missing", f"{path} = {json.dumps(wanted)}"
        if value != wanted or isinstance(value, bool) != isinstance(wanted, bool):
            return (
                f"JSON field {path} is {json.dumps(value)}, expected {json.dumps(wanted)}",
                f"{path} = {json.dumps(wanted)}",
            )
    return None


def json_path(data: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path such as ``items[0].name`` or ``items.0.name``."""
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(data, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(data) <= index < len(data):
                return False, None
            data = data[index]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


_VOLATILE = re.compile(f"{matching.PLACEHOLDERS['timestamp']}|{matching.PLACEHOLDERS['duration']}")


def settled_text(output: str) -> str:
    """Output with what changes by itself (ages, durations, timestamps) blanked, to tell whether
    a retried step's answer is still moving or has settled."""
    return _VOLATILE.sub("", output)


def check_files(expect: Expect, cwd: Path) -> tuple[str, str] | None:
    """Files the step must have created, relative to the shell's working directory."""
    missing = [f for f in expect.files if not (cwd / f).exists()]
    if missing:
        return (
            f"missing file(s): {', '.join(missing)}",
            "files: " + ", ".join(expect.files) + f" (relative to {cwd})",
        )
    return None


def missing_tool(stderr: str) -> str | None:
    found = re.search(r"(?:^|: )([^\s:]+): (?:command )?not found", stderr, re.MULTILINE)
    return f"'{found.group(1)}'" if found else None


def not_installed(output: str) -> str:
    """The message of a step that hit a missing tool (exit 127)."""
    tool = missing_tool(output)
    return f"{tool or 'a command'} is not installed in the sandbox (exit 127, command not found)"
