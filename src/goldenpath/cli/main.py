"""The ``goldenpath`` command: the dispatcher over the command functions.

Each subcommand names the function it runs (``module:function``) and its options are that
function's parameters (:mod:`goldenpath.cli.parser`), so the dispatcher only calls; a command's
module loads when it runs, and this one imports only the parser's: ``goldenpath --version``
and ``--help`` load nothing else.

Exit codes: 0 success; 1 a guide is broken; 2 bad input (spec, template, parameters, usage);
3 the sandbox or infrastructure failed; 130 interrupted.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from goldenpath.cli.parser import build_parser

if TYPE_CHECKING:
    from goldenpath.errors import UserError


def _function(target: str) -> Callable[..., int]:
    module, _, name = target.partition(":")
    function: Callable[..., int] = getattr(importlib.import_module(module), name)
    return function


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)  # --version and --help exit here
    # The errors (with dataclasses) load once there is a command to run.
    from goldenpath.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, GoldenPathError, UserError

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
