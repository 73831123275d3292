"""Reading and command time of a guide, on a shipped guide, and how the page says them."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import pytest

from goldenpath.spec import loader
from goldenpath.spec.model import Guide, Step
from goldenpath.status import timing
from helpers import REPO

SHIPPED = "add-an-endpoint"
"""A shipped guide with hidden steps, file steps, prerequisites and troubleshooting."""


@pytest.fixture
def guide() -> Guide:
    return loader.load_guides(REPO / "golden_paths", only=[SHIPPED])[0]


def with_step(guide: Guide, step_id: str, **changes: object) -> Guide:
    steps = tuple(dataclasses.replace(s, **changes) if s.id == step_id else s for s in guide.spec.steps)
    return dataclasses.replace(guide, spec=dataclasses.replace(guide.spec, steps=steps))


def first(guide: Guide, *, hidden: bool = False, action: str = "explain") -> Step:
    return next(s for s in guide.spec.steps if s.hidden == hidden and getattr(s, action))


def test_reading_time_is_words_and_lines_at_the_documented_rates(guide: Guide) -> None:
    counted = timing.reading(guide)
    assert counted.words > 0 and counted.lines > 0 and counted.file_lines > 0
    assert timing.reading_seconds(guide) == pytest.approx(
        counted.words * 60 / timing.PROSE_WORDS_PER_MINUTE
        + counted.lines * 60 / timing.CODE_LINES_PER_MINUTE
        + counted.file_lines * 60 / timing.FILE_LINES_PER_MINUTE
    )
    # Every word of the summary and of each visible step's title is prose the reader reads.
    visible = [s for s in guide.spec.steps if not s.hidden]
    assert counted.words >= len(guide.metadata.summary.split()) + sum(len(s.title.split()) for s in visible)


def test_doubling_a_visible_explain_adds_its_words_and_a_hidden_one_adds_nothing(guide: Guide) -> None:
    before = timing.reading_seconds(guide)
    step = first(guide)
    doubled = with_step(guide, step.id, explain=f"{step.explain} {step.explain}")
    added = len(step.explain.split()) * 60 / timing.PROSE_WORDS_PER_MINUTE
    assert timing.reading_seconds(doubled) == pytest.approx(before + added)
    assert timing.reading_seconds(doubled) > before

    hidden = first(guide, hidden=True, action="id")
    longer = with_step(guide, hidden.id, explain="many words a reader never sees " * 50)
    assert timing.reading_seconds(longer) == pytest.approx(before)
    # Hiding a step takes its title (and the rest of it) off the page and out of the reading.
    assert timing.reading_seconds(with_step(guide, step.id, hidden=True)) < before


def test_expected_output_and_commands_count_as_lines(guide: Guide) -> None:
    before = timing.reading(guide)
    step = first(guide, action="run")
    extra = "line one\n\nline two\nline three\n"  # the blank line does not count
    more = with_step(guide, step.id, run=f"{step.run}\n{extra}")
    assert timing.reading(more).lines == before.lines + 3
    assert timing.reading_seconds(more) == pytest.approx(
        timing.reading_seconds(guide) + 3 * 60 / timing.CODE_LINES_PER_MINUTE
    )


def test_file_content_counts_at_the_file_rate(guide: Guide, tmp_path: Path) -> None:
    shutil.copytree(REPO / "golden_paths", tmp_path / "gp")  # its next steps link the others
    step = first(guide, action="file")
    assert step.file is not None
    before = timing.reading_seconds(loader.load_guides(tmp_path / "gp", only=[SHIPPED])[0])
    assert before == pytest.approx(timing.reading_seconds(guide))
    template = tmp_path / "gp" / SHIPPED / "templates" / step.file.template
    template.write_text(template.read_text(encoding="utf-8") + "x = 1\n" * 30 + "\n\n", encoding="utf-8")
    after = timing.reading_seconds(loader.load_guides(tmp_path / "gp", only=[SHIPPED])[0])
    assert after == pytest.approx(before + 30 * 60 / timing.FILE_LINES_PER_MINUTE)


def test_troubleshooting_and_cleanup_are_not_counted(guide: Guide) -> None:
    assert guide.spec.troubleshooting
    before = timing.reading_seconds(guide)
    bare = dataclasses.replace(guide.spec, troubleshooting=())
    cleanup = (
        Step(id="tidy", title="Remove everything you made", explain="Long words " * 40, run="rm -rf x"),
    )
    for spec in (bare, dataclasses.replace(guide.spec, cleanup=cleanup)):
        assert timing.reading_seconds(dataclasses.replace(guide, spec=spec)) == pytest.approx(before)


def test_command_time_sums_only_the_steps_a_reader_runs(guide: Guide) -> None:
    visible = [s.id for s in guide.spec.steps if not s.hidden]
    hidden = [s.id for s in guide.spec.steps if s.hidden]
    assert visible and hidden
    durations = {step_id: float(i + 1) for i, step_id in enumerate(visible)}
    expected = sum(durations.values())
    # Hidden steps, clean-up and the prerequisite checks ran too, but not as the reader's commands.
    durations.update({step_id: 100.0 for step_id in hidden})
    durations.update({"cleanup-step": 50.0, "prerequisite-1": 7.0})
    assert timing.command_seconds(durations, guide) == pytest.approx(expected)
    assert timing.command_seconds({step_id: 1.0 for step_id in hidden}, guide) is None
    assert timing.command_seconds({}, guide) is None


def test_the_page_says_what_the_estimate_is_made_of(guide: Guide) -> None:
    reading = timing.reading_seconds(guide)
    read = math.ceil(reading / 60)
    assert timing.reading_minutes(reading) == read

    measured = {s.id: 50.0 for s in guide.spec.steps if not s.hidden}
    commands = 50.0 * len(measured)
    total = math.ceil((reading + commands) / 60)
    assert timing.expected_time(guide, measured) == (
        f"about {total} minutes ({read} min reading, {timing.format_span(commands)} of commands "
        "in the last passing run)"
    )
    minutes = guide.spec.estimated_minutes
    assert minutes
    assert timing.expected_time(guide) == (
        f"about {read + minutes} minutes ({read} min reading; "
        f"the author estimates {minutes} minutes for the commands)"
    )
    unestimated = dataclasses.replace(guide, spec=dataclasses.replace(guide.spec, estimated_minutes=None))
    assert timing.expected_time(unestimated) == (
        f"about {read} minutes ({read} min reading; commands not measured yet)"
    )


def test_wording_of_the_rounding() -> None:
    assert timing.describe(270, 100, None) == (
        "about 7 minutes (5 min reading, 1 min 40 s of commands in the last passing run)"
    )
    assert timing.describe(200, None, 5) == (
        "about 9 minutes (4 min reading; the author estimates 5 minutes for the commands)"
    )
    assert timing.describe(10, 0.2, None) == (
        "about 1 minute (1 min reading, under 1 s of commands in the last passing run)"
    )
    assert timing.describe(10, None, None) == "about 1 minute (1 min reading; commands not measured yet)"
    spans = [timing.format_span(s) for s in (0.2, 40, 60, 100, 3600, 3900)]
    assert spans == ["under 1 s", "40 s", "1 min", "1 min 40 s", "1 h", "1 h 5 min"]


def test_a_pass_that_skipped_steps_gives_a_floor_not_an_estimate() -> None:
    assert timing.describe(120.0, 1.0, None, skipped=9) == (
        "3 minutes or more (2 min reading, 1 s of commands in the last passing run, which skipped 9 steps)"
    )
    assert timing.describe(120.0, 1.0, None).startswith("about 3 minutes (")
