"""Running the lint rules over guides, and the report ``goldenpath lint`` prints."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from goldenpath import config
from goldenpath.errors import EXIT_BAD_INPUT, EXIT_OK, Problem, UserError
from goldenpath.lint.rules import RULES, Context, Finding
from goldenpath.lint.settings import RuleSettings, settings_for
from goldenpath.render import renderer
from goldenpath.spec import loader
from goldenpath.spec.model import Guide


def run_rules(
    guides: Sequence[Guide],
    rule_config: RuleSettings | None = None,
    docs_dir: Path | None = None,
    all_guides: Sequence[Guide] | None = None,
) -> list[Finding]:
    """Every finding of the enabled rules on ``guides``, in guide and rule order, without repeats."""
    severities = (rule_config or RuleSettings({r.id: r.severity for r in RULES})).severities
    ctx = Context({g.id: g for g in (all_guides if all_guides is not None else guides)}, docs_dir)
    findings: list[Finding] = []
    seen: set[tuple[str, str, int | None, str]] = set()
    for guide in guides:
        for rule in RULES:
            severity = severities.get(rule.id, rule.severity)
            if severity == "off":
                continue
            for where, line, message in rule.check(guide, ctx):
                if isinstance(where, Path):
                    file, path = where, ""
                else:
                    file, path = guide.source, where
                    line = line or guide.line_of(where)
                key = (rule.id, str(file), line, message)
                if key in seen:  # a template shared by several guides is reported once
                    continue
                seen.add(key)
                findings.append(
                    Finding(
                        rule.id,
                        severity,  # type: ignore[arg-type]  # "off" was skipped above
                        file,
                        line,
                        path,
                        message,
                        rule.fix,
                    )
                )
    return findings


def spec_problems(golden_paths: Path, kubernetes_version: str) -> tuple[list[Guide], list[Problem]]:
    """The guides under ``golden_paths`` (also those with problems) and every problem of their
    specs, templates and rendered manifests, one per place: what lint reports before its rules."""
    # Guides with spec problems are rendered too: every mistake shows in one pass.
    guides, problems = loader.collect_guides(golden_paths, partial=True)
    try:
        renderer.render_all(guides, kubernetes_version)
    except UserError as exc:
        problems.extend(exc.problems)
    return guides, unique_problems(problems)


def unique_problems(problems: Sequence[Problem]) -> list[Problem]:
    """One problem per place: rendering a guide that has spec problems may find one again."""
    return list({(str(p.file), p.line, p.path): p for p in reversed(problems)}.values())[::-1]


def error_lines(problems: Sequence[Problem]) -> list[str]:
    """The ``error: file:line: ...`` lines lint prints for ``problems``, in file and line order."""
    ordered = sorted(unique_problems(problems), key=lambda p: (str(p.file), p.line or 0))
    return [f"error: {p}" for p in ordered]


def report(
    settings: config.Settings, guides: Sequence[Guide], problems: Sequence[Problem], strict: bool = False
) -> int:
    """Print the errors of the loader and renderer, then the rule findings; the exit code.

    Rules run on guides without errors only. Exit 2 on any error, or any warning with ``strict``.
    """
    bad_files = {Path(p.file) for p in problems}
    clean = [
        g for g in guides if g.source not in bad_files and not any(g.folder in f.parents for f in bad_files)
    ]
    docs = settings.root / "docs"
    findings = run_rules(clean, settings_for(settings), docs if docs.is_dir() else None, guides)
    problems = unique_problems(problems)
    lines = [(str(p.file), p.line or 0, f"error: {p}") for p in problems]
    lines += [(str(f.file), f.line or 0, f"{f.severity}: {f}") for f in findings]
    for _, _, line in sorted(lines, key=lambda item: (item[0], item[1])):
        print(line, file=sys.stderr)
    errors = len(problems) + sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    if not findings:
        if len(problems) > 1:
            print(f"{len(problems)} problems found", file=sys.stderr)
        if problems:
            return EXIT_BAD_INPUT
    elif errors or (strict and warnings):
        counts = [f"{n} {word}" for n, word in ((errors, "error(s)"), (warnings, "warning(s)")) if n]
        extra = " (--strict fails on warnings)" if strict and warnings and not errors else ""
        print(f"{', '.join(counts)} found{extra}", file=sys.stderr)
        return EXIT_BAD_INPUT
    note = f" ({warnings} warning(s); --strict fails on them)" if warnings else ""
    print(f"{len(guides)} golden path(s) OK in {settings.golden_paths_dir}{note}")
    return EXIT_OK
