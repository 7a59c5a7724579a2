"""The report for people: grouped by what is checked, one line per check, root cause highlighted."""

from __future__ import annotations

import re

from lab.core.checks.model import CheckResult, Report, Status

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Repository", ("repo",)),
    ("Git", ("git",)),
    ("Registry", ("registry",)),
    ("Cluster", ("cluster",)),
    ("Wrap-up", ("progress", "quiz")),
)

ICONS = {
    Status.PASS: "✔",
    Status.FAIL: "✘",
    Status.ERROR: "!",
    Status.PENDING: "…",
    Status.SKIPPED: "-",
}

_COLORS = {
    Status.PASS: "32",
    Status.FAIL: "31",
    Status.ERROR: "33",
    Status.PENDING: "36",
    Status.SKIPPED: "2",
}


_MORE = re.compile(r" \(\+\d+ more\)")
"""What a message that names only the first of its problems ends with (`and_more`)."""


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _line(
    c: CheckResult, *, color: bool, first: bool, more_blocked: int = 0, verbose: bool = False
) -> list[str]:
    """`more_blocked`: how many later checks wait for the same one (its first blocked line says why);
    `verbose`: a check that did not pass lists everything it found, not only its first problem."""
    icon = _paint(ICONS[c.status], _COLORS[c.status], color)
    head = f"  {icon} {c.id:<26} {c.points_text():>5}  {c.title}"
    if c.status is Status.SKIPPED:
        reason = c.skip_reason()
        if c.blocked_by and more_blocked:
            # Said once for the lines below, which only name the check they wait for.
            grade = "they grade what is pushed to origin, " if c.kind == "git" else ""
            others = "as is the one below" if more_blocked == 1 else f"as are the {more_blocked} below"
            reason += f", {others}: {grade}not checked until it passes"
        return [head + _paint(f" ({reason})", "2", color)]
    if first:
        head += _paint("  <- start here", "1;31", color)
    lines = [head]
    if c.status is Status.PASS and "; note: " in c.message:
        # A pass that still has something to say (a range broader than the task's, unpushed files).
        lines.append(f"      note: {c.message.split('; note: ', 1)[1].split('; advisory: ', 1)[0]}")
    lines.extend(_paint(f"      warning: {w}", "33", color) for w in c.warnings())
    if c.status is not Status.PASS and c.message:
        lines.append(f"      {c.located()}")
        if c.hint:
            lines.append(f"      hint: {c.hint}")
        if verbose:
            lines.extend("        " + x for ev in c.evidence for x in ev.shown().split("\n"))
        elif c.evidence and _MORE.search(c.message):
            lines.append("      (lab check --verbose lists all it found)")
    return lines


def render_text(report: Report, *, color: bool = False, verbose: bool = False) -> str:
    report = report.for_learner()
    first = report.first_broken()
    # The repository checks read the files where the run is (uncommitted edits too), the git checks
    # what origin holds: the header names both, not only the branch.
    out = [f"Task {report.task} checks of the working tree and of origin/{report.graded} (what is pushed)"]
    known = {k for _, kinds in GROUPS for k in kinds}
    groups = [*GROUPS, ("Other", tuple(sorted({c.kind for c in report.checks} - known)))]
    said: set[str] = set()  # the checks whose blocked dependents have been told why
    for title, kinds in groups:
        members = [c for c in report.checks if c.kind in kinds]
        if not members:
            continue
        out.append("")
        out.append(_paint(title, "1", color))
        for c in members:
            more = 0
            if c.status is Status.SKIPPED and c.blocked_by and c.blocked_by not in said:
                said.add(c.blocked_by)
                more = sum(1 for o in report.checks if o.blocked_by == c.blocked_by and o is not c)
            is_first = first is not None and c.id == first.id
            out.extend(_line(c, color=color, first=is_first, more_blocked=more, verbose=verbose))
    counts = report.counts()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    out.append("")
    out.append(f"Score {report.score}/{report.max_score} ({summary})")
    if first is not None:
        out.append(f"Start with {first.id}: {first.message}")
    elif report.status is Status.PASS:
        out.append("Everything checked passes.")
    return "\n".join(out) + "\n"
