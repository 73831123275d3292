"""Masking secret values in what a run reports, in the forms a step is likely to print them.

A step rarely prints a token as it was given: it sends it base64-encoded in a header, URL-encoded
in a query, escaped inside JSON, base64 inside base64, or a tool wraps a long value across lines.
Each of those forms is masked too, also when line breaks (``\\n`` or ``\\r\\n``) split it, as
base64 tools and narrow terminals do.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable

MASK = "***"
MIN_ENCODED = 4
"""Encoded forms shorter than this are left alone: they would mask ordinary words."""


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value, raw or encoded, replaced by ``***``."""
    values = tuple(sorted({s for s in secrets if s}))
    if not values or not text:
        return text
    return _pattern(values).sub(_replacement, text)


def _replacement(found: re.Match[str]) -> str:
    # Keep the line breaks the value was split by, so the lines around it stay where they were.
    return MASK + "\n" * found.group(0).count("\n")


@functools.lru_cache(maxsize=64)
def _pattern(values: tuple[str, ...]) -> re.Pattern[str]:
    forms = set(values)
    for value in values:
        forms.update(form for form in encodings(value) if len(form) >= MIN_ENCODED)
    # Longest first: where one form contains another, the whole of it is masked.
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(_split_tolerant(form) for form in ordered))


def _split_tolerant(form: str) -> str:
    """A pattern for ``form`` that also matches it with a line break between any two characters."""
    return r"(?:\r?\n)?".join(re.escape(char) for char in form)


def encodings(value: str) -> set[str]:
    """The forms ``value`` takes in common encodings (each a text to look for in output)."""
    raw = value.encode("utf-8")
    forms = {
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
        urllib.parse.quote(value),  # "/" kept, as in a path
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        binascii.hexlify(raw).decode(),
    }
    forms.update(_base64_cores(raw, base64.b64encode))
    forms.update(_base64_cores(raw, base64.urlsafe_b64encode))
    # Encoded twice, as a Kubernetes Secret made from a file of base64 shows it: the value's
    # base64 (with the newline `base64` ends it with, or without) inside base64 again.
    once = base64.b64encode(raw)
    for inner in (once, once + b"\n"):
        forms.update(_base64_cores(inner, base64.b64encode))
    forms.discard(value)
    return forms


def _base64_cores(raw: bytes, encode: Callable[[bytes], bytes]) -> set[str]:
    """What ``raw`` looks like inside any base64 text, at each of the three byte alignments.

    The characters at either end of an encoded value also carry bits of its neighbours, so only
    the characters made of the value's own bits alone are certain; those are the core looked for.
    """
    cores = set()
    for offset in range(3):
        encoded = encode(bytes(offset) + raw).decode().rstrip("=")
        start = -(-offset * 4 // 3)  # characters holding prefix bits
        end = ((offset + len(raw)) * 8) // 6  # characters holding only known bits end here
        cores.add(encoded[start:end])
    # The value encoded on its own, with its padding, as `base64 <<<` prints it.
    cores.add(encode(raw).decode())
    return {core for core in cores if core}
