"""Parameter values: validation, `--set key=value` parsing, and the values for a page or a run."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from goldenpath.errors import Problem, UserError
from goldenpath.host import free_port
from goldenpath.spec.inputs import shown
from goldenpath.spec.model import Guide, Parameter, Scalar
from goldenpath.spec.patterns import PatternError, compile_pattern, pattern_problem


def check_value(param: Parameter, value: Any) -> list[tuple[str, str]]:
    """Problems with one value of a parameter, as (message, hint) pairs."""
    problems: list[tuple[str, str]] = []
    kind = param.type
    if kind in ("integer", "port"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [(f"'{param.name}' must be an integer, got {value!r}", "write a whole number")]
        if kind == "port" and not 1 <= value <= 65535:
            problems.append((f"port {value} is out of range", "use 1-65535"))
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [(f"'{param.name}' must be a number, got {value!r}", "write a number")]
    elif kind == "boolean":
        if not isinstance(value, bool):
            return [(f"'{param.name}' must be true or false, got {value!r}", "write true or false")]
    elif not isinstance(value, str):
        return [(f"'{param.name}' must be text, got {value!r}", "put the value in quotes")]
    if param.pattern and isinstance(value, str) and not _matches(param.pattern, value):
        problems.append(
            (
                f"'{shown(value)}' does not match the pattern {param.pattern} of '{param.name}'",
                param.description or f"choose a value matching {param.pattern}",
            )
        )
    if param.choices and value not in param.choices:
        options = ", ".join(str(c) for c in param.choices)
        problems.append((f"'{shown(value)}' is not one of {options}", f"choose one of: {options}"))
    return problems


def _matches(pattern: str, value: str) -> bool:
    try:
        return compile_pattern(pattern).fullmatch(value) is not None
    except PatternError:
        return True  # the pattern itself is the problem, reported with the spec (check_default)


def check_default(param: Parameter) -> list[tuple[str, str]]:
    """Problems with a parameter's declared default."""
    if param.default is None:
        if param.secret:
            return []
        return [
            (
                f"parameter '{param.name}' has no default",
                "add a default so the page and the checks have a value",
            )
        ]
    if param.pattern:
        problem = pattern_problem(param.pattern)
        if problem:
            return [(f"invalid pattern for '{param.name}': {problem}", "fix the regular expression")]
    return check_value(param, param.default)


def parse_assignments(pairs: Iterable[str], guide: Guide) -> dict[str, Scalar]:
    """Turn ``key=value`` strings into typed values, validated against the guide's parameters."""
    params = {p.name: p for p in guide.spec.parameters}
    values: dict[str, Scalar] = {}
    problems: list[Problem] = []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep:
            problems.append(Problem("--set", None, pair, "expected key=value", "e.g. --set port=8080"))
            continue
        param = params.get(name)
        if param is None:
            close = difflib.get_close_matches(name, list(params), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(params)
            problems.append(Problem("--set", None, name, f"'{guide.id}' has no parameter '{name}'", hint))
            continue
        value = _coerce(param, text)
        for message, hint in check_value(param, value):
            problems.append(Problem("--set", None, name, message, hint))
        values[name] = value
    if problems:
        raise UserError(problems)
    return values


def _coerce(param: Parameter, text: str) -> Any:
    try:
        if param.type in ("integer", "port"):
            return int(text)
        if param.type == "number":
            return float(text)
    except ValueError:
        return text
    if param.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
    return text


def placeholder(param: Parameter) -> str:
    """What the page shows instead of a secret's value."""
    return f"<{param.name}>"


def page_values(guide: Guide, overrides: Mapping[str, Scalar] | None = None) -> dict[str, Any]:
    """Values as the page shows them: defaults, with placeholders for secrets."""
    values: dict[str, Any] = {}
    for param in guide.spec.parameters:
        values[param.name] = placeholder(param) if param.secret else param.default
    values.update(overrides or {})
    return values


def run_values(
    guide: Guide,
    overrides: Mapping[str, Scalar] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values for a check run: free ports, secrets from the environment.

    Returns the values and the secrets among them (name -> value) for masking.
    """
    environ = os.environ if environ is None else environ
    values = page_values(guide, overrides)
    secrets: dict[str, str] = {}
    missing: list[Problem] = []
    for param in guide.spec.parameters:
        if overrides and param.name in overrides:
            if param.secret:  # a secret given on the command line is still masked
                secrets[param.name] = str(overrides[param.name])
            continue
        if param.type == "port":
            values[param.name] = free_port()
        if param.secret:
            value = environ.get(param.env_var)
            if value is None:
                if param.default is None:
                    path = f"spec.parameters[{guide.spec.parameters.index(param)}]"
                    missing.append(
                        Problem(
                            guide.source,
                            guide.line_of(path),
                            path,
                            f"secret '{param.name}' is not set",
                            f"export {param.env_var}=... before running checks",
                        )
                    )
                    continue
                value = str(param.default)
            values[param.name] = value
            secrets[param.name] = value
    if missing:
        raise UserError(missing)
    return values, secrets
