"""Secret values are masked in every form a step is likely to print them in."""

from __future__ import annotations

import base64
import json
import textwrap
import urllib.parse

import pytest

from goldenpath.run.masking import MASK, mask

SECRET = "s3cr3t/Tok+en=value!é"


@pytest.mark.parametrize("prefix", ["", "u", "us", "user:", "Authorization: Basic "])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_base64_inside_a_longer_value_at_every_alignment(prefix: str, encode: object) -> None:
    assert callable(encode)
    for suffix in ("", "x", "tail"):
        text = encode((prefix + SECRET + suffix).encode()).decode()
        masked = mask(text, [SECRET])
        assert MASK in masked and len(masked) < len(text) - 20, (prefix, suffix, masked)


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        urllib.parse.quote(SECRET, safe=""),
        urllib.parse.quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        SECRET.encode().hex(),
    ],
)
def test_each_encoding_is_masked_where_it_appears(form: str) -> None:
    assert mask(f"before {form} after", [SECRET]) == f"before {MASK} after"


@pytest.mark.parametrize("cut", [1, 5, len(SECRET) - 1])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_value_split_by_a_line_break_keeps_its_lines(cut: int, newline: str) -> None:
    text = f"token: {SECRET[:cut]}{newline}{SECRET[cut:]} end"
    assert mask(text, [SECRET]) == f"token: {MASK}\n end"


def test_wrapped_base64_is_masked_across_its_lines() -> None:
    encoded = base64.b64encode(("user:" + SECRET * 3).encode()).decode()
    text = "\n".join(textwrap.wrap(encoded, 12))
    masked = mask(text, [SECRET])
    for line in masked.splitlines():
        assert len(line) < 12 or MASK in line


def test_ordinary_text_is_left_alone() -> None:
    assert mask("hello world, 200 OK", ["ab", "zz"]) == "hello world, 200 OK"
    assert mask("", [SECRET]) == "" and mask("text", []) == "text"
    # a short secret's encodings are masked whole; fragments shorter than 4 characters are not,
    # they would match ordinary words ("FiY": "abc" in base64 after one other byte)
    assert mask("the word abc is YWJj", ["abc"]) == f"the word {MASK} is {MASK}"
    assert mask("FiY and 6162", ["abc"]) == "FiY and 6162"


def test_a_secret_encoded_twice_is_masked() -> None:
    # A Secret made with --from-file of a file holding the value's base64: kubectl shows it
    # base64-encoded again.
    secret = "S!B\\*d$zDsb="
    once = base64.b64encode(secret.encode())
    for inner in (once, once + b"\n"):
        twice = base64.b64encode(inner).decode()
        assert mask(f'{{"password.txt":"{twice}"}}', [secret]) == '{"password.txt":"***"}'
