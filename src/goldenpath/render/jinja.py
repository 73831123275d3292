"""The one Jinja2 environment of goldenpath, and a fast path for plain ``{{ name }}`` strings.

Templates of guides, page templates and spec strings all render through :func:`jinja_env`:
sandboxed, strict about undefined names, trailing newlines kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment


def jinja_env(
    loader: jinja2.BaseLoader | None = None, bytecode_cache: jinja2.BytecodeCache | None = None
) -> SandboxedEnvironment:
    """The one Jinja2 environment factory: sandboxed, strict about undefined names.

    A ``bytecode_cache`` keeps compiled templates between builds (Jinja checks each against its
    source), which makes repeated site builds and ``serve`` reloads cheaper.
    """
    return SandboxedEnvironment(
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
