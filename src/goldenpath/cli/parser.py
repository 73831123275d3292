"""The parser of ``goldenpath``: each subcommand, the function it runs (``module:function``) and
that function's parameters as its options. A subcommand's parser costs ~0.5 ms (argparse looks up
translations), so :func:`build_parser` makes those the arguments can reach; what their options
need loads with them (the settings, with dataclasses): ``goldenpath --version`` loads argparse alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from goldenpath import __version__
from goldenpath.cli.options import (
    BASE_HELP,
    FORMATS,
    Subparsers,
    assignments,
    command,
    positive,
    shard,
    states,
)


def _lint(sub: Subparsers) -> None:
    lint = command(
        sub, "lint", "goldenpath.cli.commands:lint", "validate specs, templates and manifests without running"
    )
    lint.add_argument("--strict", action="store_true", help="fail on warnings of the lint rules too")


def _new(sub: Subparsers) -> None:
    new = command(
        sub, "new", "goldenpath.cli.commands:new", "scaffold the files of a golden path with your parameters"
    )
    new.add_argument("template", metavar="TEMPLATE", help="guide id, e.g. hello-world")
    new.add_argument("dest", metavar="DEST", type=Path, help="folder to write the files into")
    assignments(new)


def _follow(sub: Subparsers) -> None:
    follow = command(
        sub,
        "follow",
        "goldenpath.cli.commands:follow",
        "follow a guide step by step in this terminal and folder, each step checked as you go",
    )
    follow.add_argument("guide", metavar="GUIDE", help="guide id, e.g. hello-world")
    assignments(follow)
    follow.add_argument("--from", dest="start", metavar="STEP", help="start at this step (id or number)")
    follow.add_argument("--yes", "-y", action="store_true", help="run every step without asking")
    follow.add_argument("--keep-running", action="store_true", help="leave background processes running")
    follow.add_argument("--cleanup", action="store_true", help="run the guide's clean-up at the end")


def _import(sub: Subparsers) -> None:
    page = command(
        sub,
        "import",
        "goldenpath.cli.commands:import_page",
        "turn a Markdown how-to into a golden path (then: check --accept)",
    )
    page.add_argument("file", metavar="FILE.md", type=Path, help="the how-to to import")
    page.add_argument(
        "--id", dest="guide_id", metavar="ID", help="the guide's id (default: from the file name)"
    )


def _schema(sub: Subparsers) -> None:
    schema = command(
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


def _check(sub: Subparsers) -> None:
    from goldenpath.config import SANDBOX_NAMES  # with the subcommand (see the module's docstring)

    check = command(sub, "check", "goldenpath.cli.check:check_command", "run guides end to end in a sandbox")
    check.add_argument("names", metavar="GUIDE", nargs="*", help="guide ids (default: all)")
    check.add_argument(
        "--sandbox",
        dest="sandbox_name",
        choices=SANDBOX_NAMES,
        help="where to run (default: local, or [tool.goldenpath] sandbox)",
    )
    check.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML report")
    check.add_argument(
        "--jobs", "-j", metavar="N", type=positive, default=1, help="run N guides in parallel (default: 1)"
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
        "--shard", metavar="K/N", type=shard, help="run only shard K of N, balanced by recorded durations"
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


def _sandbox(sub: Subparsers) -> None:
    from goldenpath.config import MANAGED_SANDBOXES  # as in _check

    box = command(
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


def _history(sub: Subparsers) -> None:
    """``history merge``: the run histories of several machines (shards) into one."""
    history = sub.add_parser("history", help="work with run history files", description="run history files")
    # dest "command" again: main() drops it, so only merge's own options reach its function.
    actions = history.add_subparsers(dest="command", required=True, metavar="ACTION")
    merge = command(
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


def _status(sub: Subparsers) -> None:
    status = command(
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
        type=states,
        default=(),
        help="exit 1 when any guide is in one of these states, e.g. broken,stale",
    )
    status.add_argument(
        "--only",
        metavar="STATES",
        type=states,
        default=(),
        help="list only guides in these states, e.g. broken,stale",
    )


def _build(sub: Subparsers) -> None:
    build = command(
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


def _serve(sub: Subparsers) -> None:
    serve = command(
        sub,
        "serve",
        "goldenpath.cli.commands:serve",
        "serve the site with live reload (MkDocs); a broken spec shows on the pages",
    )
    serve.add_argument("--dev-addr", "-a", metavar="IP:PORT", help="default: 127.0.0.1:8000")
    serve.add_argument(
        "--config-file", "-f", metavar="FILE", type=Path, help="MkDocs config (default: mkdocs.yml)"
    )


def _schedule(sub: Subparsers) -> None:
    from goldenpath.config import SANDBOX_NAMES  # as in _check

    schedule = command(
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


def _affected(sub: Subparsers) -> None:
    affected = command(
        sub,
        "affected",
        "goldenpath.review.affected:affected_command",
        "list the guides a change since REV affects",
    )
    affected.add_argument("--base", metavar="REV", required=True, help=BASE_HELP)
    affected.add_argument("--format", dest="output_format", choices=["text", "json"], default="text")


def _review(sub: Subparsers) -> None:
    review = command(
        sub,
        "review",
        "goldenpath.review.comment:review_command",
        "write a pull-request comment reviewing a change",
    )
    review.add_argument("--base", metavar="REV", required=True, help=BASE_HELP)
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


def _owners(sub: Subparsers) -> None:
    owners = command(
        sub, "owners", "goldenpath.review.owners:owners_command", "write the guides' owners into CODEOWNERS"
    )
    owners.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="the CODEOWNERS file (default: .github/CODEOWNERS)"
    )


COMMANDS: dict[str, Callable[[Subparsers], None]] = {
    # the spec format without running anything
    "lint": _lint,
    "new": _new,
    "follow": _follow,
    "import": _import,
    "schema": _schema,
    # running guides
    "check": _check,
    "sandbox": _sandbox,
    # run histories, freshness, the site and the cadence
    "history": _history,
    "status": _status,
    "build": _build,
    "serve": _serve,
    "schedule": _schedule,
    # what a pull request changes and who reviews it
    "affected": _affected,
    "review": _review,
    "owners": _owners,
}
"""Each subcommand, in the order ``goldenpath --help`` lists them, and the function adding it."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``goldenpath``, with the subcommands that ``argv`` can reach: the one its
    first argument names, none for ``--version`` (answered as it is read), else every one (for
    ``--help`` and the usage errors, which list them). Without ``argv``: every one."""
    parser = argparse.ArgumentParser(
        prog="goldenpath",
        description="Golden-path guides generated from templates and verified by running them.",
        epilog="Exit codes: 0 ok, 1 a guide is broken, 2 bad input, 3 sandbox failure, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"goldenpath {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    first = argv[0] if argv else None
    if first in COMMANDS:
        COMMANDS[first](sub)
    elif first != "--version":
        for add in COMMANDS.values():
            add(sub)
    return parser
