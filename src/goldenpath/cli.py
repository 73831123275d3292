"""The ``goldenpath`` command: a thin layer over :mod:`goldenpath.commands`.

Exit codes: 0 success; 1 a guide is broken; 2 bad input (spec, template, parameters, usage);
3 the sandbox or infrastructure failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goldenpath import __version__, commands
from goldenpath.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, GoldenPathError, UserError


def _add_golden_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--golden-paths",
        metavar="DIR",
        type=Path,
        help="folder of golden paths (default: golden_paths, or [tool.goldenpath] golden_paths)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="goldenpath",
        description="Golden-path guides generated from templates and verified by running them.",
        epilog="Exit codes: 0 ok, 1 a guide is broken, 2 bad input, 3 sandbox failure.",
    )
    parser.add_argument("--version", action="version", version=f"goldenpath {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="validate specs, templates and manifests without running")
    lint.add_argument("--strict", action="store_true", help="fail on warnings of the lint rules too")
    _add_golden_paths(lint)

    new = sub.add_parser("new", help="scaffold the files of a golden path with your parameters")
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
    _add_golden_paths(new)

    check = sub.add_parser("check", help="run guides end to end in a sandbox")
    check.add_argument("guides", metavar="GUIDE", nargs="*", help="guide ids (default: all)")
    check.add_argument(
        "--sandbox",
        choices=["local", "kubernetes", "kwok"],
        help="where to run (default: local, or [tool.goldenpath] sandbox)",
    )
    check.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML report")
    check.add_argument(
        "--jobs", "-j", metavar="N", type=int, default=1, help="run N guides in parallel (default: 1)"
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
        "--no-history",
        dest="history",
        action="store_false",
        help="do not record the results in the run history",
    )
    _add_golden_paths(check)

    box = sub.add_parser("sandbox", help="start, stop or show the local kwok cluster")
    box.add_argument("action", choices=["up", "down", "status"])
    box.add_argument("--sandbox", default="kwok", choices=["kwok"], help="the sandbox (kwok)")

    _add_status_commands(sub)

    _add_review_commands(sub)

    schema = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    schema.add_argument("--output", "-o", type=Path, help="write to a file instead of stdout")
    return parser


def _states(text: str) -> tuple[str, ...]:
    from goldenpath.status import parse_states

    try:
        return parse_states(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_status_commands(sub: Any) -> None:
    """``status``, ``build``, ``serve`` and ``schedule``: freshness, the site and the cadence."""
    status = sub.add_parser("status", help="show whether each guide is verified, stale or broken")
    status.add_argument(
        "--format",
        choices=["table", "json", "markdown"],
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
    _add_golden_paths(status)

    build = sub.add_parser("build", help="build the site with every guide's status (MkDocs)")
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

    serve = sub.add_parser("serve", help="serve the site with live reload (MkDocs)")
    serve.add_argument("--dev-addr", "-a", metavar="IP:PORT", help="default: 127.0.0.1:8000")
    serve.add_argument(
        "--config-file", "-f", metavar="FILE", type=Path, help="MkDocs config (default: mkdocs.yml)"
    )

    schedule = sub.add_parser("schedule", help="run the checks on a cadence and rebuild the site")
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
        "--sandbox",
        choices=["local", "kubernetes", "kwok"],
        help="where to run (default: local, or [tool.goldenpath] sandbox)",
    )
    _add_golden_paths(schedule)


def _add_review_commands(sub: Any) -> None:
    """``affected``, ``review`` and ``owners``: what a pull request changes and who reviews it."""
    affected = sub.add_parser("affected", help="list the guides a change since REV affects")
    affected.add_argument(
        "--base",
        metavar="REV",
        required=True,
        help="revision to compare the working tree with, e.g. origin/main",
    )
    affected.add_argument("--format", choices=["text", "json"], default="text")
    _add_golden_paths(affected)

    review = sub.add_parser("review", help="write a pull-request comment reviewing a change")
    review.add_argument(
        "--base",
        metavar="REV",
        required=True,
        help="revision to compare the working tree with, e.g. origin/main",
    )
    review.add_argument(
        "--results", metavar="FILE", type=Path, help="check results: JUnit XML from 'check --junit', or JSON"
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
    _add_golden_paths(review)

    owners = sub.add_parser("owners", help="write the guides' owners into CODEOWNERS")
    owners.add_argument(
        "--output", "-o", metavar="FILE", type=Path, help="the CODEOWNERS file (default: .github/CODEOWNERS)"
    )
    _add_golden_paths(owners)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "lint":
            return commands.lint(args.golden_paths, strict=args.strict)
        if args.command == "new":
            return commands.new(args.template, args.dest, args.assignments, args.golden_paths)
        if args.command == "check":
            if args.jobs < 1:
                parser.error("--jobs must be at least 1")
            if args.affected != bool(args.base):
                parser.error("--affected and --base REV go together")
            if args.affected:
                from goldenpath.affected import guides_to_check

                args.guides = guides_to_check(args.base, args.golden_paths, args.guides)
                if not args.guides:
                    print(f"no guides affected by the changes since {args.base}: nothing to check")
                    return 0
            return commands.check(
                args.guides,
                args.sandbox,
                args.golden_paths,
                args.junit,
                jobs=args.jobs,
                keep=args.keep,
                history=args.history,
            )
        if args.command == "sandbox":
            return commands.sandbox_command(args.action, args.sandbox)
        if args.command == "status":
            return commands.status(args.format, args.fail_on, args.only, args.golden_paths)
        if args.command == "build":
            return commands.build(args.strict, args.site_dir, args.config_file)
        if args.command == "serve":
            return commands.serve(args.dev_addr, args.config_file)
        if args.command == "schedule":
            return commands.schedule(
                args.once, args.daily_at, args.full_every_days, args.sandbox, args.golden_paths
            )
        if args.command == "affected":
            from goldenpath.affected import affected_command

            return affected_command(args.base, args.format, args.golden_paths)
        if args.command == "review":
            from goldenpath.review import review_command

            return review_command(
                args.base,
                args.results,
                args.preview_url,
                args.output,
                args.full_output,
                args.details_url,
                args.golden_paths,
            )
        if args.command == "owners":
            from goldenpath.owners import owners_command

            return owners_command(args.output, args.golden_paths)
        if args.command == "schema":
            return commands.schema(args.output)
        parser.error(f"unknown command {args.command}")
    except UserError as exc:
        _print_problems(exc)
        return EXIT_BAD_INPUT
    except GoldenPathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _print_problems(exc: UserError) -> None:
    lines = [str(p) for p in exc.problems] or [str(exc)]
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    if len(lines) > 1:
        print(f"{len(lines)} problems found", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
