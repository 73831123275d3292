"""The one Jinja2 environment of goldenpath, and a fast path for plain ``{{ name }}`` strings.

Templates of guides, page templates and spec strings all render through :func:`jinja_env`:
sandboxed, strict about undefined names, trailing newlines kept, and bounded, because templates
come from pull requests: no value may grow beyond :data:`MAX_OUTPUT` characters, and a render
that takes longer than :data:`MAX_SECONDS` stops (see :func:`time_limit`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from goldenpath.spec.inputs import MAX_FILE_BYTES

MAX_OUTPUT = 1_000_000
"""Most characters one string, list or rendered template may have."""
MAX_SECONDS = 10.0
"""Longest a single render may take (a real one takes milliseconds)."""
_GROWING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "join", "replace"})


class RenderLimitError(jinja2.TemplateRuntimeError):
    """A template grew a value too large, or rendered for too long."""


class BoundedEnvironment(SandboxedEnvironment):
    """A sandbox that refuses to build huge values: multiplication, padding and repetition are
    checked before they run, every result of a call afterwards."""

    # Intercepted operators also stop Jinja from folding constants at compile time, which would
    # compute "x" * 10**10 before any check could run.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name in ("*", "**"):
            size = _size_of_product(left, right) if operator_name == "*" else _size_of_power(left, right)
            if size > MAX_OUTPUT:
                raise RenderLimitError(f"{left!r:.40} {operator_name} {right!r:.40} would be too large")
        return super().call_binop(context, operator_name, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        if name in _GROWING and any(isinstance(a, int) and a > MAX_OUTPUT for a in args):
            raise RenderLimitError(f"{name}() with {max(a for a in args if isinstance(a, int))} is too large")
        return _bounded(super().call(__context, __obj, *args, **kwargs))


def _size_of_product(left: Any, right: Any) -> int:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
            return len(sequence) * count
    return 0


def _size_of_power(left: Any, right: Any) -> int:
    # An integer's digits grow with the exponent: 10 ** 10**9 would take minutes to compute.
    if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
        return right * max(abs(left).bit_length(), 1) // 3
    return 0


def sized(text: str) -> str:
    """A rendered text, refused when it is larger than :data:`MAX_OUTPUT` characters."""
    if len(text) > MAX_OUTPUT:
        raise RenderLimitError(f"the rendered text has {len(text):,} characters; at most {MAX_OUTPUT:,}")
    return text


def _bounded(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
        raise RenderLimitError(f"a value of {len(value):,} items is too large")
    return value


@contextlib.contextmanager
def time_limit(seconds: float = MAX_SECONDS) -> Iterator[None]:
    """Stop a render that runs longer than ``seconds`` with :class:`RenderLimitError`.

    Uses SIGALRM, so it only applies in the main thread (where the CLI, the site build and the
    pytest plugin render); elsewhere it does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise RenderLimitError(f"rendering took longer than {seconds:g}s")

    previous: Callable[[int, FrameType | None], Any] | int | None = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class TemplateFolder(jinja2.FileSystemLoader):
    """A guide's templates/ folder; a file larger than the spec limit is refused before it is read."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses '..' like the loader itself
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            if os.path.isfile(path) and os.path.getsize(path) > MAX_FILE_BYTES:
                raise RenderLimitError(
                    f"the template is {os.path.getsize(path):,} bytes; at most {MAX_FILE_BYTES:,} are read"
                )
        return super().get_source(environment, template)


def jinja_env(
    loader: jinja2.BaseLoader | None = None, bytecode_cache: jinja2.BytecodeCache | None = None
) -> SandboxedEnvironment:
    """The one Jinja2 environment factory: sandboxed, bounded, strict about undefined names.

    A ``bytecode_cache`` keeps compiled templates between builds (Jinja checks each against its
    source), which makes repeated site builds and ``serve`` reloads cheaper.
    """
    return BoundedEnvironment(
        loader=loader,
        bytecode_cache=bytecode_cache,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_refuse_callables,
    )


def _refuse_callables(value: Any) -> Any:
    # An undeclared name can still resolve to a Jinja2 global: `{{ namespace }}` would print
    # "<class 'jinja2.utils.Namespace'>" into a command instead of failing like a typo should.
    if callable(value) and not isinstance(value, jinja2.Undefined):
        raise jinja2.TemplateRuntimeError(
            f"cannot print {value!r}: it is a Jinja2 built-in (namespace, range, dict, cycler, "
            "joiner, lipsum) or a macro, not a value; declare a parameter if you meant one"
        )
    return value


_VARIABLE = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*) *\}\}")


def substitute(source: str, values: Mapping[str, Any]) -> str | None:
    """Render a string made only of text and ``{{ name }}`` of known names, without Jinja.

    Compiling a Jinja template per spec string dominated site builds; most strings only name a
    parameter. The result equals Jinja's (``str()`` of the value, autoescape off). Anything else
    (filters, tags, comments, unknown names) returns None so Jinja renders it and reports errors.
    """
    parts = _VARIABLE.split(source)
    for index in range(1, len(parts), 2):
        if parts[index] not in values:
            return None
    text_parts = parts[::2]
    if any(marker in text for text in text_parts for marker in ("{{", "{%", "{#")):
        return None
    for index in range(1, len(parts), 2):
        parts[index] = str(values[parts[index]])
    return "".join(parts)
