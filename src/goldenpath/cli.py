"""The ``goldenpath`` command: a thin layer over :mod:`goldenpath.commands`.

Exit codes: 0 success; 1 a guide is broken; 2 bad input (spec, template, parameters, usage);
3 the sandbox or infrastructure failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from goldenpath import __version__, commands
from goldenpath.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, GoldenPathError, UserError


def _add_golden_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--golden-paths", metavar="DIR", type=Path,
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
    _add_golden_paths(lint)

    new = sub.add_parser("new", help="scaffold the files of a golden path with your parameters")
    new.add_argument("template", metavar="TEMPLATE", help="guide id, e.g. hello-world")
    new.add_argument("dest", metavar="DEST", type=Path, help="folder to write the files into")
    new.add_argument("--set", dest="assignments", metavar="KEY=VALUE", action="append", default=[],
                     help="a parameter value; repeat for several")
    _add_golden_paths(new)

    check = sub.add_parser("check", help="run guides end to end in a sandbox")
    check.add_argument("guides", metavar="GUIDE", nargs="*", help="guide ids (default: all)")
    check.add_argument("--sandbox", choices=["local", "kubernetes", "kwok"],
                       help="where to run (default: local, or [tool.goldenpath] sandbox)")
    check.add_argument("--junit", metavar="FILE", type=Path, help="write a JUnit XML report")
    check.add_argument("--jobs", "-j", metavar="N", type=int, default=1,
                       help="run N guides in parallel (default: 1)")
    check.add_argument("--keep", action="store_true",
                       help="keep the kwok sandbox's cluster running afterwards, for debugging")
    _add_golden_paths(check)

    box = sub.add_parser("sandbox", help="start, stop or show the local kwok cluster")
    box.add_argument("action", choices=["up", "down", "status"])
    box.add_argument("--sandbox", default="kwok", choices=["kwok"], help="the sandbox (kwok)")

    schema = sub.add_parser("schema", help="print the JSON Schema of the spec format")
    schema.add_argument("--output", "-o", type=Path, help="write to a file instead of stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "lint":
            return commands.lint(args.golden_paths)
        if args.command == "new":
            return commands.new(args.template, args.dest, args.assignments, args.golden_paths)
        if args.command == "check":
            if args.jobs < 1:
                parser.error("--jobs must be at least 1")
            return commands.check(args.guides, args.sandbox, args.golden_paths, args.junit,
                                  jobs=args.jobs, keep=args.keep)
        if args.command == "sandbox":
            return commands.sandbox_command(args.action, args.sandbox)
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
