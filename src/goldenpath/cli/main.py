"""The ``goldenpath`` command: a declarative parser over the command functions.

Each subcommand names the function it runs (``module:function``) and its options are that
function's parameters, so the dispatcher only calls; a command's module loads when it runs.

Exit codes: 0 success; 1 a guide is broken; 2 bad input (spec, template, parameters, usage);
3 the sandbox or infrastructure failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from goldenpath import __version__
from goldenpath.config import MANAGED_SANDBOXES, SANDBOX_NAMES
from goldenpath.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, GoldenPathError, UserError
from goldenpath.status.freshness import parse_states
from goldenpath.status.reports import FORMATS
from goldenpath.status.shards import parse_shard

Subparsers = Any  # argparse's _SubParsersAction is private


def _command(
    sub: Subparsers, name: str, run: str, help: str, golden_paths: bool = True
) -> argparse.ArgumentParser:
    """A subcommand that calls ``run`` (``module:function``) with its options as keyword arguments."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(run=run)
    if golden_paths:
        parser.add_argument(
            "--golden-paths",
            metavar="DIR",
            type=Path,
            help="folder of golden paths (default: golden_paths, or [tool.goldenpath] golden_paths)",
        )
    return parser


def _states(text: str) -> tuple[str, ...]:
    try:
        return parse_states(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _shard(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _spec_commands(sub: Subparsers) -> None:
    """``lint``, ``new`` and ``schema``: the spec format without running anything."""
    lint = _command(
        sub, "lint", "goldenpath.cli.commands:lint", "validate specs, templates and manifests without running"
    )
    lint.add_argument("--strict", action="store_true", help="fail on warnings of the lint rules too")

    new = _command(
        sub, "new", "goldenpath.cli.commands:new", "scaffold the files of a golden path with your parameters"
    )
    new.add_argument("template", metavar="TEMPLATE", help="guide id, e.g. hello-world")
    new.add_argument("dest", metavar="DEST", type=Path, help="folder to write the files into")
    new.add_argument(
        "--set",
        dest="assignments",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a parameter value; repeat for several",
    )

    page = _command(
        sub,
        "import",
        "goldenpath.cli.commands:import_page",
        "turn a Markdown how-to into a golden path (then: check --accept)",
    )
    page.add_argument("file", metavar="FILE.md", type=Path, help="the how-to to import")
    page.add_argument(
        "--id", dest="guide_id", metavar="ID", help="the guide's id (default: from the file name)"
    )

    schema = _command(
        sub,
        "schema",
        "goldenpath.cli.commands:schema",
        "print the JSON Schema of the spec format ($id from site_url, the guides' ids as examples)",
    )
    schema.add_argument("--output", "-o", type=Path, help="write to a file instead of stdout")


def _check_usage(args: argparse.Namespace) -> str:
    if args.affected != bool(args.base):
        return "--affected and --base REV go together"
    if args.dry_run and not args.accept:
        return "--dry-run goes with --accept"
    if args.accept and args.jobs > 1:
        return "--accept runs one guide at a time; leave out --jobs"
    return ""


def _run_commands(sub: Subparsers) -> None:
    """``check`` and ``sandbox``: running guides."""
    check = _command(sub, "check", "goldenpath.cli.check:check_command", "run guides end to end in a sandbox")
    check.add_argument("names", metavar="GUIDE", nargs="*", help="guide ids (default: all)")
    check.add_argument(
        "--sandbox",
        dest="sandbox_name",
        choices=SANDBOX_NAMES,
        help="where to run (default: local, or [tool.goldenpath] sandbox)",
    )
    check.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML report")
    check.add_argument(
        "--jobs", "-j", metavar="N", type=_positive, default=1, help="run N guides in parallel (default: 1)"
    )
    check.add_argument(
        "--keep",
        action="store_true",
        help="keep the kwok sandbox's cluster running afterwards, for debugging",
    )
    check.add_argument(
        "--affected", action="store_true", help="run only the guides a change since --base affects"
    )
    check.add_argument("--base", metavar="REV", help="with --affected: the revision to compare with")
    check.add_argument(
        "--shard", metavar="K/N", type=_shard, help="run only shard K of N, balanced by recorded durations"
    )
    check.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help="do not record the results in the run history",
    )
    check.add_argument(
        "--accept",
        action="store_true",
        help='write the "you should see" blocks of steps whose output differs from the real run, '
        "print the diff, then check those guides again",
    )
    check.add_argument("--dry-run", action="store_true", help="with --accept: print the diff, change nothing")
    check.set_defaults(usage=_check_usage)

    box = _command(
        sub,
        "sandbox",
        "goldenpath.cli.commands:sandbox",
        "start, stop or show the local cluster of the kwok or real-node sandbox",
        golden_paths=False,
    )
    box.add_argument(
        "--golden-paths",
        metavar="DIR",
        type=Path,
        help="accepted as by every command, and ignored: the cluster is the same for any guides",
    )
    box.add_argument("action", choices=["up", "down", "status"])
    box.add_argument(
        "--sandbox",
        dest="sandbox_name",
        default="kwok",
        choices=MANAGED_SANDBOXES,
        help="the sandbox (default: kwok)",
    )


def _history_commands(sub: Subparsers) -> None:
    """``history merge``: the run histories of several machines (shards) into one."""
    history = sub.add_parser("history", help="work with run history files", description="run history files")
    # dest "command" again: main() drops it, so only merge's own options reach its function.
    actions = history.add_subparsers(dest="command", required=True, metavar="ACTION")
    merge = _command(
        actions,
        "merge",
        "goldenpath.cli.history:merge",
        "copy every run of the SOURCE histories into TARGET, each run once",
        golden_paths=False,
    )
    merge.add_argument(
        "--golden-paths",
        metavar="DIR",
        type=Path,
        help="accepted as by every command, and ignored: runs are merged whatever guides they name",
    )
    merge.add_argument("sources", metavar="SOURCE.sqlite", type=Path, nargs="+", help="histories to merge")
    merge.add_argument("--into", metavar="TARGET", type=Path, help="default: the project's run history")


def _status_commands(sub: Subparsers) -> None:
    """``status``, ``build``, ``serve`` and ``schedule``: freshness, the site and the cadence."""
    _history_commands(sub)
    status = _command(
        sub,
        "status",
        "goldenpath.cli.commands:status",
        "show whether each guide is verified, stale or broken",
    )
    status.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="table",
        help="table (default), json (for tools) or markdown (for an issue)",
    )
    status.add_argument(
        "--fail-on",
        metavar="STATES",
        type=_states,
        default=(),
        help="exit 1 when any guide is in one of these states, e.g. broken,stale",
    )
    status.add_argument(
        "--only",
        metavar="STATES",
        type=_states,
        default=(),
        help="list only guides in these states, e.g. broken,stale",
    )

    build = _command(
        sub,
        "build",
        "goldenpath.cli.commands:build",
        "build the site with every guide's status (MkDocs)",
    )
    build.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fail on any warning (default: on)",
    )
    build.add_argument("--site-dir", metavar="DIR", type=Path, help="where to build (default: site)")
    build.add_argument(
        "--config-file", "-f", metavar="FILE", type=Path, help="MkDocs config (default: mkdocs.yml)"
    )

    serve = _command(
        sub,
        "serve",
        "goldenpath.cli.commands:serve",
        "serve the site with live reload (MkDocs); a broken spec shows on the pages",
    )
    serve.add_argument("--dev-addr", "-a", metavar="IP:PORT", help="default: 127.0.0.1:8000")
    serve.add_argument(
        "--config-file", "-f", metavar="FILE", type=Path, help="MkDocs config (default: mkdocs.yml)"
    )

    schedule = _command(
        sub,
        "schedule",
        "goldenpath.cli.schedule:run_schedule",
        "run the checks on a cadence and rebuild the site",
    )
    schedule.add_argument(
        "--once", action="store_true", help="one full run, then exit with its code (for cron)"
    )
    schedule.add_argument(
        "--daily-at", metavar="HH:MM", help="time of the daily run of due guides (default: 02:00)"
    )
    schedule.add_argument(
        "--full-every-days", metavar="N", type=int, help="days between full runs of every guide (default: 7)"
    )
    schedule.add_argument(
        "--sandbox", choices=SANDBOX_NAMES, help="where to run (default: local, or [tool.goldenpath] sandbox)"
    )


def _review_commands(sub: Subparsers) -> None:
    """``affected``, ``review`` and ``owners``: what a pull request changes and who reviews it."""
    base_help = "revision to compare the working tree with, e.g. origin/main"
    affected = _command(
        sub,
        "affected",
        "goldenpath.review.affected:affected_command",
        "list the guides a change since REV affects",
    )
    affected.add_argument("--base", metavar="REV", required=True, help=base_help)
    affected.add_argument("--format", dest="output_format", choices=["text", "json"], default="text")

    review = _command(
        sub,
        "review",
        "goldenpath.review.comment:review_command",
        "write a pull-request comment reviewing a change",
    )
    review.add_argument("--base", metavar="REV", required=True, help=base_help)
    review.add_argument(
        "--results",
        dest="results_file",
        metavar="FILE",
        type=Path,
        help="check results: JUnit XML from 'check --junit', or JSON",
    )
    review.add_argument(
        "--preview-url",
        metavar="URL",
        default="",
        help="where the built site of this change is served, to link its pages",
    )
    review.add_argument(
        "--details-url",
        metavar="URL",
        default="",
        help="where the full review is, linked when the comment is cut",
    )
    review.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="write the comment to FILE (default: stdout)"
    )
    review.add_argument(
        "--full-output", metavar="FILE", type=Path, help="also write the whole review, never cut, to FILE"
    )

    owners = _command(
        sub, "owners", "goldenpath.review.owners:owners_command", "write the guides' owners into CODEOWNERS"
    )
    owners.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="the CODEOWNERS file (default: .github/CODEOWNERS)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goldenpath",
        description="Golden-path guides generated from templates and verified by running them.",
        epilog="Exit codes: 0 ok, 1 a guide is broken, 2 bad input, 3 sandbox failure, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"goldenpath {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _spec_commands(sub)
    _run_commands(sub)
    _status_commands(sub)
    _review_commands(sub)
    return parser


def _function(target: str) -> Callable[..., int]:
    module, _, name = target.partition(":")
    function: Callable[..., int] = getattr(importlib.import_module(module), name)
    return function


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = vars(args)
    options.pop("command")
    usage = options.pop("usage", None)
    if usage is not None and (problem := usage(args)):
        parser.error(problem)
    try:
        return _function(options.pop("run"))(**options)
    except UserError as exc:
        _print_problems(exc)
        return EXIT_BAD_INPUT
    except GoldenPathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _print_problems(exc: UserError) -> None:
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    if len(exc.problems) > 1:
        print(f"{len(exc.problems)} problems found", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
