"""Command functions shared by the CLI, the scheduler and the plugins."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from goldenpath import config, params, render, spec
from goldenpath.errors import UserError


def lint(golden_paths: Path | None = None) -> int:
    """Validate every spec, template and rendered manifest; raise UserError with all problems."""
    settings = config.load_settings(golden_paths=golden_paths)
    guides, problems = spec.collect_guides(settings.golden_paths_dir)
    for guide in guides:
        try:
            render.render_guide(guide, kubernetes_version=settings.kubernetes_version)
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    print(f"{len(guides)} golden path(s) OK in {settings.golden_paths_dir}")
    return 0


def new(template: str, dest: Path, assignments: Sequence[str], golden_paths: Path | None = None) -> int:
    """Scaffold the files of one golden path into ``dest`` with parameter values."""
    settings = config.load_settings(golden_paths=golden_paths)
    (guide,) = spec.load_guides(settings.golden_paths_dir, only=[template])
    values = params.parse_assignments(assignments, guide)
    for path in render.scaffold(guide, dest, values):
        print(path)
    return 0


def schema(output: Path | None = None) -> int:
    """Print or write the JSON Schema of the spec format."""
    from goldenpath.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0
