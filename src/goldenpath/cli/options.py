"""What the subcommands of ``goldenpath`` share: the way a subcommand names its function, the
``--golden-paths`` and ``--set`` options, and the option types. Nothing heavy loads with it (see
:mod:`goldenpath.cli.parser`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

Subparsers = Any  # argparse's _SubParsersAction is private
FORMATS = ("table", "json", "markdown")
"""What ``goldenpath status --format`` prints (:func:`goldenpath.status.reports.print_report`)."""
BASE_HELP = "revision to compare the working tree with, e.g. origin/main"
SET_HELP = "a parameter value; repeat for several"


def command(
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


def states(text: str) -> tuple[str, ...]:
    # The status modules load the run history's: only when the option is given.
    from goldenpath.errors import UserError
    from goldenpath.status.freshness import parse_states

    try:
        return parse_states(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def shard(text: str) -> tuple[int, int]:
    # As states: only when the option is given.
    from goldenpath.errors import UserError
    from goldenpath.status.shards import parse_shard

    try:
        return parse_shard(text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def assignments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", dest="assignments", metavar="KEY=VALUE", action="append", default=[], help=SET_HELP
    )
