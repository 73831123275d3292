"""Tolerant "you should see" matching."""

from __future__ import annotations

import pytest

from goldenpath.spec.matching import check_pattern, match_output

PODS = """\
NAME                     READY   STATUS    RESTARTS   AGE    IP
hello-<hash>-<hash>   1/1     Running   0          <duration>   <ip>
"""


@pytest.mark.parametrize(
    "actual",
    [
        "NAME                     READY   STATUS    RESTARTS   AGE    IP\n"
        "hello-7d9f8b6c5d-x2x4z   1/1     Running   0          12s   10.244.0.17\n",
        "NAME                     READY   STATUS    RESTARTS   AGE    IP\n"
        "hello-5c8f7d9b4-qwert   1/1     Running   0          2m3s   fd00::a:1\n",
        "NAME                     READY   STATUS    RESTARTS   AGE    IP\n"
        "hello-66b4cbd5f9-abcde   1/1     Running   0          0.53s   192.168.1.254  \n\n",
    ],
)
def test_placeholders_tolerate_hashes_ips_and_durations(actual: str) -> None:
    assert match_output(PODS, actual).ok


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-23T18:30:00Z",
        "2026-11-23T18:30:00.123456+01:00",
        "2026-11-23 18:30:00,123",
        "23/Nov/2026:18:30:00 +0000",
        "Sun, 23 Nov 2026 18:30:00 GMT",
        "Sun Nov 23 18:30:00 UTC 2026",
        "Nov 23 18:30:00",
        "2026/11/23 18:30:00",
        "I1123 18:30:00.123456",
    ],
)
def test_timestamp_formats(stamp: str) -> None:
    assert match_output("[<timestamp>] started", f"[{stamp}] started").ok


def test_numbers_any_and_inline_ellipsis() -> None:
    expected = "total <number> items, <any>\nversion ... built\n"
    assert match_output(expected, "total -12.5 items, whatever here\nversion 1.2.3 (abc) built").ok
    assert not match_output(expected, "total many items, x\nversion 1 built").ok


def test_ellipsis_line_skips_any_number_of_lines() -> None:
    expected = "Starting\n...\nDone\n"
    assert match_output(expected, "Starting\nDone\n").ok
    assert match_output(expected, "Starting\n" + "step\n" * 500 + "Done\n").ok
    assert not match_output(expected, "Starting\nstep\n").ok


def test_regex_lines_and_trailing_whitespace() -> None:
    assert match_output("id=[a-f0-9]{8} (re)\nok   \n", "id=deadbeef\r\nok\n").ok
    assert not match_output("id=[a-f0-9]{8} (re)", "id=DEADBEEF").ok
    assert check_pattern("fine\nbad[ (re)\n") == ["line 2: invalid regular expression: missing ]: ["]


def test_patterns_run_in_linear_time_and_say_what_they_cannot_do() -> None:
    # Catastrophic for a backtracking engine (2^40 paths); RE2 answers at once.
    assert not match_output("(a+)+b (re)", "a" * 40).ok
    assert check_pattern("(x)\\1 (re)") == [
        "line 1: invalid regular expression: invalid escape sequence: \\1"
        " (backreferences are not supported: patterns run on RE2, in linear time)"
    ]


def test_literal_text_is_not_a_pattern() -> None:
    assert not match_output("a.b (x)", "aXb (x)").ok
    assert match_output("<html> <b>", "<html> <b>").ok


def test_mismatch_gives_a_readable_unified_diff() -> None:
    expected = "Hello from hello!\nserved by <ip> at <timestamp>\n...\nbye\n"
    actual = "Hello from hullo!\nserved by 10.0.0.1 at 2026-11-23T18:30:00Z\nnoise\nnoise\nbye\n"
    result = match_output(expected, actual)
    assert not result.ok
    lines = result.diff.splitlines()
    assert lines[:2] == ["--- expected", "+++ actual"]
    assert "-Hello from hello!" in lines
    assert "+Hello from hullo!" in lines
    # a line that matched tolerantly is context, shown as printed
    assert " served by 10.0.0.1 at 2026-11-23T18:30:00Z" in lines
    assert not any(line.startswith(("-served", "+served", "+noise")) for line in lines)


def test_missing_and_extra_lines() -> None:
    result = match_output("one\ntwo\nthree\n", "one\nthree\nfour\n")
    assert result.diff.splitlines()[2:] == ["@@ output line 1 @@", " one", "-two", " three", "+four"]


def test_a_wrong_line_after_a_skip_shows_both_sides() -> None:
    expected = "...\nRan 3 tests in <duration>\n...\nOK\n"
    actual = "test_a (test_app.T) ... ok\n\n------\nRan 0 tests in 0.000s\n\nNO TESTS RAN\n"
    lines = match_output(expected, actual).diff.splitlines()
    assert lines.index("-Ran 3 tests in <duration>") + 1 == lines.index("+Ran 0 tests in 0.000s")
    assert lines.index("-OK") + 1 == lines.index("+NO TESTS RAN")
    # what the skips absorbed stays out of the diff
    assert not any(line.startswith("+test_a") or line == "+------" for line in lines)
