"""Which lint rules run, and how severe they are: ``[tool.goldenpath.lint]`` in ``pyproject.toml``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath import config
from goldenpath.errors import Problem, UserError
from goldenpath.lint.rules import RULES, RULES_BY_ID, SEVERITIES


@dataclass(frozen=True)
class RuleSettings:
    severities: Mapping[str, str]
    """Effective severity of each rule id: error, warning or off."""


def rule_settings(table: Mapping[str, Any], source: Path | str = "pyproject.toml") -> RuleSettings:
    """Read ``[tool.goldenpath.lint]``; unknown rule ids and keys are bad input with a hint."""
    problems: list[Problem] = []
    severities: dict[str, str] = {r.id: r.severity for r in RULES}

    def unknown_rule(rule_id: Any, where: str) -> bool:
        if rule_id in RULES_BY_ID:
            return False
        close = difflib.get_close_matches(str(rule_id), list(RULES_BY_ID), n=1)
        problems.append(
            Problem(
                source,
                None,
                where,
                f"unknown lint rule '{rule_id}'",
                f"did you mean '{close[0]}'?" if close else f"rules: {', '.join(RULES_BY_ID)}",
            )
        )
        return True

    for key in table:
        if key not in ("disable", "severity"):
            problems.append(
                Problem(
                    source,
                    None,
                    f"tool.goldenpath.lint.{key}",
                    "unknown key",
                    "use 'disable' (a list of rule ids) or 'severity' (a table)",
                )
            )
    disable = table.get("disable", [])
    if not isinstance(disable, list):
        problems.append(
            Problem(
                source, None, "tool.goldenpath.lint.disable", "expected a list", 'e.g. disable = ["GP108"]'
            )
        )
        disable = []
    for rule_id in disable:
        if not unknown_rule(rule_id, "tool.goldenpath.lint.disable"):
            severities[rule_id] = "off"
    severity = table.get("severity", {})
    if not isinstance(severity, Mapping):
        problems.append(
            Problem(
                source,
                None,
                "tool.goldenpath.lint.severity",
                "expected a table",
                'e.g. severity = {GP109 = "error"}',
            )
        )
        severity = {}
    for rule_id, value in severity.items():
        where = f"tool.goldenpath.lint.severity.{rule_id}"
        if unknown_rule(rule_id, where):
            continue
        if value not in SEVERITIES:
            problems.append(
                Problem(source, None, where, f"'{value}' is not a severity", "use error, warning or off")
            )
            continue
        if severities[rule_id] != "off":
            severities[rule_id] = value
    if problems:
        raise UserError(problems)
    return RuleSettings(severities)


def settings_for(settings: config.Settings) -> RuleSettings:
    return rule_settings(getattr(settings, "lint", {}) or {}, settings.root / "pyproject.toml")
