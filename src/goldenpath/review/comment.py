"""``goldenpath review``: one Markdown comment that lets a reviewer judge a pull request.

It shows what a reader will see, not the YAML: for every affected guide the rendered page and
the generated manifests at the base revision against the working tree, the check results of the
affected guides, lint findings and the owners to ask. The base side is read with ``git archive``
into a temporary folder and rendered with the current goldenpath, so only the guides' own
changes show. The comment fits GitHub's size limit; the full text goes to a file for an artifact.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from goldenpath import config
from goldenpath.errors import Problem
from goldenpath.lint.report import run_rules
from goldenpath.lint.settings import settings_for
from goldenpath.review.affected import AffectedGuide, AffectedReport, affected, page_template_dir
from goldenpath.review.sides import CheckOutcome, Side, base_tree, load_results, render_side, unified
from goldenpath.site.markdown import fence
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.spec.urls import page_path

MARKER = "<!-- goldenpath-review -->"
"""First line of the comment, so a workflow finds and updates its own comment."""
COMMENT_LIMIT = 65536
"""GitHub's limit on the body of an issue or pull-request comment, in characters."""
_LIST_LIMIT = 60


@dataclass(frozen=True)
class Review:
    markdown: str
    """The whole review."""
    comment: str
    """The review cut to fit a comment, with a pointer to the whole one when cut."""
    truncated: bool


_OUTCOMES = {
    "passed": ":white_check_mark: passed",
    "failed": ":x: **failed**",
    "timeout": ":x: **timed out**",
    "error": ":warning: sandbox error",
    "skipped": ":fast_forward: skipped",
}


def _outcome(result: CheckOutcome | None, guide: AffectedGuide) -> str:
    if not guide.runs:
        return "removed"
    if result is None:
        return "not checked"
    if result.outcome == "passed" and result.coverage:
        if result.coverage.startswith("full"):
            return ":white_check_mark: passed, every step ran for real"
        # A pass that skipped or simulated steps is not a verification: never shown green.
        return f":large_blue_circle: passed, {result.coverage}"
    return _OUTCOMES.get(result.outcome, result.outcome)


# -- the Markdown ------------------------------------------------------------------------------


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _relative_to(path: Path | str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)


@dataclass
class _Block:
    """A piece of the review; a diff in it may be cut to fit a comment."""

    text: str
    diff: str = ""
    after: str = ""
    guide: str = ""

    def render(self, diff: str | None = None) -> str:
        body = self.diff if diff is None else diff
        return self.text + (fence(body, "diff") if body else "") + self.after


def _diff_block(summary: str, diff: str, guide: str, open_: bool = False) -> _Block:
    return _Block(
        f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n\n",
        diff,
        "\n\n</details>\n\n",
        guide,
    )


def build_review(
    report: AffectedReport,
    old: Mapping[str, Side],
    new: Mapping[str, Side],
    checks: Mapping[str, CheckOutcome] | None,
    findings: Sequence[str],
    *,
    preview_url: str = "",
    details_url: str = "",
    limit: int = COMMENT_LIMIT,
) -> Review:
    """Assemble the review Markdown, and the comment cut to ``limit`` characters."""
    head = [MARKER, "## Golden paths review", ""]
    guides = report.guides
    base = f"{_code(report.base)} (merge base {_code(report.merge_base[:12])})"
    if not guides:
        head += [f"This change affects no guide's rendered output, compared with {base}.", ""]
    else:
        head += [f"This change affects **{len(guides)} guide(s)**, compared with {base}."]
        if report.everything:
            head += [f"Every guide is affected: {report.everything}."]
            if report.everything.startswith("goldenpath"):
                head += [
                    "Both revisions are rendered with this change's goldenpath, so the diffs "
                    "show what the guides' own files change; the checks show the rest."
                ]
        head += ["", "| Guide | Change | Check | Owner |", "| --- | --- | --- | --- |"]
        for item in guides:
            side = new.get(item.id) or old.get(item.id) or old.get(item.previous_id or "")
            guide = side.guide if side else None
            title = guide.metadata.title if guide else item.id
            name = _cell(title)
            if guide is not None and item.runs and preview_url:
                name = f"[{name}]({preview_url.rstrip('/')}/{page_path(guide)})"
            elif guide is not None and item.runs:
                name += f" ({_code(page_path(guide))})"
            change = item.status + (f" from {_code(item.previous_id)}" if item.previous_id else "")
            owner = _cell(guide.metadata.owner) if guide else ""
            head.append(
                f"| {name}<br>{_code(item.id)} | {change} "
                f"| {_outcome((checks or {}).get(item.id), item)} | {owner} |"
            )
        head.append("")
        owners: dict[str, list[str]] = {}
        for item in guides:
            side = new.get(item.id) or old.get(item.id) or old.get(item.previous_id or "")
            if side and side.guide:
                owners.setdefault(side.guide.metadata.owner, []).append(item.id)
        if owners:
            head.append(
                "**Owners to ask:** "
                + "; ".join(f"{owner} ({', '.join(ids)})" for owner, ids in owners.items())
            )
            head.append("")
    head += _checks_section(guides, checks)
    head += ["### Lint", ""]
    if findings:
        shown = findings[:_LIST_LIMIT]
        head += [f"- {line}" for line in shown]
        if len(findings) > len(shown):
            head.append(f"- ... and {len(findings) - len(shown)} more")
    else:
        head.append("No lint findings in the affected guides.")
    head.append("")

    blocks = [_Block("\n".join(head) + "\n")]
    for item in guides:
        blocks += _guide_blocks(item, old, new)
    markdown = "".join(b.render() for b in blocks)
    if len(markdown) <= limit:
        return Review(markdown, markdown, False)
    return Review(markdown, _cut(blocks, limit, details_url), True)


def _checks_section(
    guides: Sequence[AffectedGuide],
    checks: Mapping[str, CheckOutcome] | None,
) -> list[str]:
    lines = ["### Checks", ""]
    running = [g for g in guides if g.runs]
    if not running:
        return [*lines, "No guide to check.", ""]
    if checks is None:
        return [
            *lines,
            "No check results were given (`goldenpath check --affected --junit FILE`, "
            "then `goldenpath review --results FILE`).",
            "",
        ]
    for item in running:
        result = checks.get(item.id)
        text = f"- {_code(item.id)}: {_outcome(result, item)}"
        if result is not None and result.message:
            text += f": {_cell(result.message)}"
        lines.append(text)
    return [*lines, ""]


def _guide_blocks(
    item: AffectedGuide,
    old: Mapping[str, Side],
    new: Mapping[str, Side],
) -> list[_Block]:
    before = old.get(item.previous_id or item.id)
    after = new.get(item.id) if item.runs else None
    title = (after or before or Side()).guide
    heading = f"### {_code(item.id)}" + (f": {_cell(title.metadata.title)}" if title else "")
    lines = [heading, "", f"{item.status.capitalize()}: " + "; ".join(_cell(r) for r in item.reasons), ""]
    for label, side in (("Before", before), ("Now", after)):
        if side is not None and side.problems:
            lines.append(f"{label}, the guide does not render:")
            lines += [f"- {_cell(p)}" for p in side.problems[:10]]
            lines.append("")
    blocks = [_Block("\n".join(lines) + "\n", guide=item.id)]
    old_page = before.page if before else None
    new_page = after.page if after else None
    page_diff = unified(
        old_page, new_page, before.page_uri if before else "", after.page_uri if after else ""
    )
    if page_diff:
        uri = (after or before or Side()).page_uri
        blocks.append(_diff_block(f"Rendered page diff ({_code(uri)})", page_diff, item.id, True))
    elif old_page is not None and new_page is not None:
        blocks.append(_Block("The rendered page is unchanged.\n\n", guide=item.id))
    old_files = before.manifests if before else {}
    new_files = after.manifests if after else {}
    for path in sorted(set(old_files) | set(new_files)):
        diff = unified(old_files.get(path), new_files.get(path), path, path)
        if diff:
            blocks.append(_diff_block(f"Manifest diff ({_code(path)})", diff, item.id))
    return blocks


def _cut(blocks: Sequence[_Block], limit: int, details_url: str) -> str:
    """The blocks cut to ``limit`` characters: whole blocks first, then one diff shortened."""
    where = (
        f"[the full review]({details_url})"
        if details_url
        else "the full review (the `goldenpath-review` artifact of this run)"
    )
    footer = f"\n---\n:scissors: This comment was cut to fit GitHub's size limit; see {where}.\n"
    budget = limit - len(footer) - 200
    out = ""
    left_out: list[str] = []
    for block in blocks:
        text = block.render()
        if left_out or len(out) + len(text) > budget:
            room = budget - len(out) - len(block.text) - len(block.after) - 100
            if not left_out and block.diff and room > 500:
                lines, kept = block.diff.splitlines(keepends=True), ""
                for line in lines:
                    if len(kept) + len(line) > room:
                        break
                    kept += line
                rest = len(lines) - len(kept.splitlines())
                out += block.render(kept + f"... {rest} more line(s)\n")
            if block.guide and block.guide not in left_out:
                left_out.append(block.guide)
            continue
        out += text
    if left_out:
        out += "\nCut short or left out: " + ", ".join(_code(g) for g in left_out) + ".\n"
    return out[: limit - len(footer)] + footer


# -- lint --------------------------------------------------------------------------------------


def lint_findings(
    guides: Sequence[Guide],
    problems: Sequence[Problem],
    ids: set[str],
    folders: set[Path],
    settings: config.Settings,
    root: Path,
) -> list[str]:
    """Errors and rule findings of the affected guides, as Markdown list items."""
    mine = [
        p
        for p in problems
        if any(folder == Path(p.file).parent or folder in Path(p.file).parents for folder in folders)
    ]
    lines = [
        f":x: {_code(_relative_to(p.file, root) + (f':{p.line}' if p.line else ''))} "
        f"{_cell(p.message)}" + (f" ({_cell(p.hint)})" if p.hint else "")
        for p in mine
    ]
    bad = {Path(p.file) for p in problems}
    clean = [
        g
        for g in guides
        if g.id in ids and g.source not in bad and not any(g.folder in f.parents for f in bad)
    ]
    docs = settings.root / "docs"
    for finding in run_rules(clean, settings_for(settings), docs if docs.is_dir() else None, guides):
        icon = ":x:" if finding.severity == "error" else ":warning:"
        where = _relative_to(finding.file, root) + (f":{finding.line}" if finding.line else "")
        lines.append(
            f"{icon} {_code(where)} {finding.rule} {_cell(finding.message)} (fix: {_cell(finding.fix)})"
        )
    return lines


# -- the command -------------------------------------------------------------------------------


def make_review(
    base: str,
    settings: config.Settings,
    results_file: Path | None = None,
    preview_url: str = "",
    details_url: str = "",
    limit: int = COMMENT_LIMIT,
) -> Review:
    """Everything ``goldenpath review`` prints, from the repository and the results file."""
    report = affected(base, settings)
    root = report.repo_root
    checks = load_results(results_file) if results_file is not None else None
    new_guides, problems = loader.collect_guides(settings.golden_paths_dir)
    # Render problems of the affected guides count as lint findings too.
    new_ids = {g.id for g in report.guides if g.runs}
    override = page_template_dir(settings)
    new = render_side(new_guides, new_ids, settings, override if override and override.is_dir() else None)
    for guide_id, side in new.items():
        if side.problems and side.guide is not None:
            problems = [
                *problems,
                Problem(side.guide.source, None, "", f"{guide_id} does not render (see below)"),
            ]
    old_ids = {g.previous_id or g.id for g in report.guides if g.status != "added"}
    old: dict[str, Side] = {}
    if old_ids:
        paths = [report.golden_paths]
        override_rel = _relative_to(override, root) if override is not None else None
        if override_rel and not PurePosixPath(override_rel).is_absolute():
            paths.append(override_rel)
        with base_tree(root, report.merge_base, paths) as tree:
            old_dir = tree / report.golden_paths
            old_guides: list[Guide] = []
            if old_dir.is_dir():
                old_guides, _ = loader.collect_guides(old_dir)
            old_override = tree / override_rel if override_rel else None
            old = render_side(
                old_guides,
                old_ids,
                settings,
                old_override if old_override and old_override.is_dir() else None,
            )
    folders = {root / g.folder for g in report.guides if g.runs}
    findings = lint_findings(new_guides, problems, new_ids, folders, settings, root)
    return build_review(
        report, old, new, checks, findings, preview_url=preview_url, details_url=details_url, limit=limit
    )


def review_command(
    base: str,
    results_file: Path | None = None,
    preview_url: str = "",
    output: Path | None = None,
    full_output: Path | None = None,
    details_url: str = "",
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath review``: write the comment (and the full review); exit 0."""
    settings = config.load_settings(golden_paths=golden_paths)
    made = make_review(base, settings, results_file, preview_url, details_url)
    if full_output is not None:
        full_output.parent.mkdir(parents=True, exist_ok=True)
        full_output.write_text(made.markdown, encoding="utf-8")
    if output is None:
        sys.stdout.write(made.comment)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(made.comment, encoding="utf-8")
        note = " (cut to fit a comment)" if made.truncated else ""
        print(f"review written to {output}{note}", file=sys.stderr)
    return 0
