"""The command functions behind ``goldenpath lint``, ``new``, ``schema``, ``sandbox``, ``status``,
``build``, ``serve`` and ``follow``; ``check`` and ``schedule`` have modules of their own.

Each returns the command's exit code and raises :mod:`goldenpath.errors` for the CLI to report.
Each imports what it uses, so one command does not load the others' modules (the site's MkDocs,
the lint rules, the cluster sandboxes).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from goldenpath import config
from goldenpath.config import MANAGED_SANDBOXES
from goldenpath.errors import EXIT_BAD_INPUT, UserError


def lint(golden_paths: Path | None = None, strict: bool = False) -> int:
    """Validate every spec, template and rendered manifest, then apply the lint rules.

    Prints every problem and finding with ``file:line``; returns 2 on an error (or, with
    ``strict``, a warning), else 0. See :mod:`goldenpath.lint`.
    """
    # The command's own modules (see the module's docstring), here and below.
    from goldenpath.lint.report import report as lint_report
    from goldenpath.lint.report import spec_problems

    settings = config.load_settings(golden_paths=golden_paths)
    guides, problems = spec_problems(settings.golden_paths_dir, settings.kubernetes_version)
    return lint_report(settings, guides, problems, strict=strict)


def new(template: str, dest: Path, assignments: Sequence[str], golden_paths: Path | None = None) -> int:
    """Scaffold the files of one golden path into ``dest`` with parameter values."""
    # The command's own modules.
    from goldenpath.render.scaffold import scaffold
    from goldenpath.spec import loader, params

    settings = config.load_settings(golden_paths=golden_paths)
    (guide,) = loader.load_guides(settings.golden_paths_dir, only=[template])
    values = params.parse_assignments(assignments, guide)
    for path in scaffold(guide, dest, values):
        print(path)
    return 0


def import_page(file: Path, guide_id: str | None = None, golden_paths: Path | None = None) -> int:
    """``goldenpath import``: a Markdown how-to as a guide folder; prints what it could not map
    and the guide's lint findings. 0 when the guide lints without errors, else 2."""
    from goldenpath.importer.writer import import_markdown  # markdown-it loads for this command only

    settings = config.load_settings(golden_paths=golden_paths)
    imported = import_markdown(file, settings.golden_paths_dir, guide_id)
    print(f"imported {file} as {imported.folder}/ ({imported.steps} steps, {imported.files} templates)")
    for note in imported.notes:
        print(f"{file}:{note.line}: {note.message}")
    for finding in imported.findings:
        print(f"{finding.severity}: {finding}")
    errors = [f for f in imported.findings if f.severity == "error"]
    spec = imported.folder / "guide.yaml"
    print(f"next: review {spec}, then goldenpath check --accept {imported.folder.name}")
    return EXIT_BAD_INPUT if errors else 0


def schema(output: Path | None = None, golden_paths: Path | None = None) -> int:
    """Print or write the JSON Schema of the spec format, as the site publishes it: its ``$id`` from
    ``site_url``, the ids of the guides (of ``golden_paths``) as completion examples."""
    from goldenpath.spec.schema import SCHEMA_PATH, guide_ids, json_schema  # the command's own

    settings = config.load_settings(golden_paths=golden_paths)
    if not settings.site_url:
        print(
            f"note: no site_url in [tool.goldenpath]: the schema's $id is relative; with one it is "
            f"<site_url>/{SCHEMA_PATH}, where the site publishes it",
            file=sys.stderr,
        )
    found = json_schema(settings.site_url, guide_ids(settings.golden_paths_dir))
    text = json.dumps(found, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


def sandbox(action: str, sandbox_name: str, golden_paths: Path | None = None) -> int:
    """``goldenpath sandbox up|down|status``: the shared local cluster of the kwok or the real-node
    sandbox, outside a check. For real-node, a node left by a run that died is collected first,
    one line per thing removed. ``golden_paths`` is accepted like every command's and ignored:
    the cluster is the same for any folder of guides."""
    # The command's own modules.
    from goldenpath.sandbox import collect_leftovers, kwok, realnode

    if sandbox_name not in MANAGED_SANDBOXES:
        raise UserError(
            f"'goldenpath sandbox {action}' manages the {' and '.join(MANAGED_SANDBOXES)} sandboxes; "
            "the local sandbox needs nothing and a kubernetes cluster is yours"
        )
    settings = config.load_settings()
    for line in collect_leftovers(settings):
        print(line)
    if sandbox_name == "real-node":
        for line in getattr(realnode, action)(settings):
            print(line)
        return 0
    kwokctl = kwok.KwokCtl(settings)
    if action == "up":
        cluster = kwokctl.get(kwok.SHARED_NAME) or kwokctl.create(kwok.SHARED_NAME)
        print(f"cluster {cluster.name} is up; checks with --sandbox kwok use it")
        print(f"export KUBECONFIG={cluster.kubeconfig}")
    elif action == "down":
        for name in [kwok.SHARED_NAME, *kwokctl.kept()]:  # half-started ones too
            kwokctl.delete(name)
            print(f"cluster {name} is down")
    else:
        clusters = kwokctl.status()
        if not clusters:
            print("no kwok cluster")
        for name, ready in clusters:
            hint = "not answering ('goldenpath sandbox down' removes it)"
            print(f"{name}: {'running' if ready else hint}")
    return 0


def status(
    fmt: str = "table",
    fail_on: Sequence[str] = (),
    only: Sequence[str] = (),
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath status``: every guide's status; 1 when any is in a ``fail_on`` state."""
    from goldenpath.status import reports  # the command's own

    settings = config.load_settings(golden_paths=golden_paths)
    found = reports.collect_reports(settings)
    shown = [r for r in found if r.state in only] if only else found
    reports.print_report(shown, fmt, sys.stdout, settings.site_url)
    if fail_on and os.environ.get("GITHUB_ACTIONS") == "true":
        for report in found:
            if report.state in fail_on:
                print(reports.annotation(report, settings.root), flush=True)
    return reports.exit_code(found, fail_on)


def build(
    strict: bool = True,
    site_dir: Path | None = None,
    config_file: Path | None = None,
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath build``: the site with every guide's status (of ``golden_paths`` when given, over
    mkdocs.yml and pyproject.toml), strict by default."""
    from goldenpath.site.build import build_site  # the command's own

    built = build_site(config_file, strict=strict, site_dir=site_dir, golden_paths=golden_paths)
    print(f"site built in {built}")
    return 0


def serve(
    dev_addr: str | None = None, config_file: Path | None = None, golden_paths: Path | None = None
) -> int:
    """``goldenpath serve``: the site with live reload, until Ctrl-C; a broken spec shows on the
    pages and in the terminal instead of stopping it."""
    from goldenpath.site.build import serve_site  # the command's own

    serve_site(config_file, dev_addr=dev_addr, golden_paths=golden_paths)
    return 0


def follow(
    guide: str,
    assignments: Sequence[str] = (),
    start: str | None = None,
    yes: bool = False,
    keep_running: bool = False,
    cleanup: bool = False,
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath follow``: one guide, step by step, in this terminal, folder and environment.

    Exit codes: 0 every step passed (or was done and checked); 1 a step failed or the reader
    stopped early; 2 bad input; 3 a step needs a cluster or image builder this machine lacks;
    130 Ctrl-C.
    """
    from goldenpath.follow.guided import Follow  # the command's own modules
    from goldenpath.follow.machine import ReaderMachine
    from goldenpath.follow.terminal import Terminal
    from goldenpath.render import renderer
    from goldenpath.spec import loader, params

    settings = config.load_settings(golden_paths=golden_paths)
    (spec,) = loader.load_guides(settings.golden_paths_dir, only=[guide])
    values = params.page_values(spec, params.parse_assignments(assignments, spec))
    term = Terminal()
    secrets: dict[str, str] = {}
    for param in spec.spec.parameters:
        if not param.secret:
            continue
        given = param.name in values and values[param.name] != params.placeholder(param)
        value = str(values[param.name]) if given else os.environ.get(param.env_var)
        if value is None:
            value = term.read(
                f"{param.name} ({param.description.strip()}; not shown as you type): ", secret=True
            )
        secrets[param.name] = values[param.name] = value
    rendered = renderer.render_guide(spec, values, secrets, kubernetes_version=settings.kubernetes_version)
    ids = [n.guide for n in spec.spec.next_steps if n.guide]
    titles: dict[str, str] = {}
    if ids:
        # a broken next guide: its id stands in for its title (lint reports it)
        with contextlib.suppress(UserError):
            titles = {g.id: g.metadata.title for g in loader.load_guides(settings.golden_paths_dir, only=ids)}
    machine = ReaderMachine(Path.cwd())
    return Follow(
        rendered,
        machine,
        term,
        start=start,
        assume_yes=yes,
        keep_running=keep_running,
        cleanup=cleanup,
        site_url=settings.site_url,
        titles=titles,
    ).run()
