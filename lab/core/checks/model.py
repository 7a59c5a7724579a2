"""The one result model every output format renders (docs/formats.md).

A check definition is data (`CheckDef`, loaded from `checks/<task>.toml`); an implementation returns an
`Outcome`; the runner turns both into a `CheckResult` with points, timing and dependency information.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Unpack

from lab.core.record import dataclass
from lab.core.text import escape_controls

CheckKind = Literal["repo", "registry", "cluster", "git", "progress", "quiz"]
CHECK_KINDS: tuple[CheckKind, ...] = ("repo", "registry", "cluster", "git", "progress", "quiz")

# Checks of these kinds may answer `pending` and are re-run by `--watch`.
LIVE_KINDS: frozenset[str] = frozenset({"registry", "cluster"})

OFFLINE_REASON = "offline"


DIAGNOSIS = "diagnosis"
"""The evidence kind of a diagnosis finding: ref `file:line finding-id`, text `severity: message (Flux: ...)`."""
ADVISORY = "advisory"
MARKER_FINDINGS = "marker."


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    PENDING = "pending"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Evidence:
    """What a check looked at: a file excerpt, an object condition, a registry answer (no secrets)."""

    kind: str
    ref: str
    text: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref, "text": self.text}

    def shown(self) -> str:
        """One finding as the app's Checks screen and `lab check --verbose` show it: `kind ref: text`."""
        return f"{self.kind} {self.ref}: {self.text}".rstrip(": ")


@dataclass(frozen=True)
class CheckDef:
    id: str
    title: str
    points: int
    depends_on: tuple[str, ...] = ()
    kind: CheckKind = "repo"
    hint: str = ""
    hidden: bool = False


if TYPE_CHECKING:  # only annotations name them: a TypedDict compiles each of its annotations at import
    from typing import Protocol, TypedDict

    class OutcomeDetails(TypedDict, total=False):
        """What an Outcome may say besides its status and message (the keywords of make and failed)."""

        hint: str | None
        evidence: Iterable[Evidence]
        file: str | None
        line: int | None
        points: int | None

    class Located(Protocol):
        """A problem a check found, at a place in a file (a manifest Problem, an image field's Verdict)."""

        @property
        def message(self) -> str: ...
        @property
        def file(self) -> str: ...
        @property
        def line(self) -> int | None: ...
        @property
        def hint(self) -> str: ...


@dataclass(frozen=True)
class Outcome:
    """What an implementation reports. `points` is partial credit for a `fail` with sub-criteria."""

    status: Status
    message: str = ""
    hint: str | None = None
    evidence: tuple[Evidence, ...] = ()
    file: str | None = None
    line: int | None = None
    points: int | None = None

    @classmethod
    def make(cls, status: Status, message: str, **details: Unpack[OutcomeDetails]) -> Outcome:
        return cls(
            status,
            message,
            details.get("hint"),
            tuple(details.get("evidence", ())),
            details.get("file"),
            details.get("line"),
            details.get("points"),
        )

    @classmethod
    def passed(
        cls, message: str = "", *, evidence: Iterable[Evidence] = (), file: str | None = None
    ) -> Outcome:
        return cls.make(Status.PASS, message, evidence=evidence, file=file)

    @classmethod
    def failed(cls, message: str, **details: Unpack[OutcomeDetails]) -> Outcome:
        return cls.make(Status.FAIL, message, **details)

    @classmethod
    def first_failure(cls, problems: Sequence[Located], evidence: Iterable[Evidence]) -> Outcome:
        """A failure led by the first of `problems` (` (+N more)` for the rest), at its file and line."""
        first = problems[0]
        return cls.failed(
            first.message + and_more(problems),
            file=first.file,
            line=first.line,
            hint=first.hint or None,
            evidence=evidence,
        )

    @classmethod
    def errored(cls, message: str, *, hint: str | None = None, evidence: Iterable[Evidence] = ()) -> Outcome:
        return cls.make(Status.ERROR, message, hint=hint, evidence=evidence)

    @classmethod
    def pending(cls, message: str, *, hint: str | None = None, evidence: Iterable[Evidence] = ()) -> Outcome:
        return cls.make(Status.PENDING, message, hint=hint, evidence=evidence)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    points: int
    max_points: int
    message: str = ""
    hint: str = ""
    evidence: tuple[Evidence, ...] = ()
    file: str | None = None
    line: int | None = None
    depends_on: tuple[str, ...] = ()
    blocked_by: str | None = None
    duration_s: float = 0.0
    attempts: int = 0
    kind: CheckKind = "repo"
    hidden: bool = False

    @property
    def excluded(self) -> bool:
        """Left out by a mode (`--offline`): not counted in `max_score`. Blocked checks still count."""
        return self.status is Status.SKIPPED and self.blocked_by is None

    @property
    def broken(self) -> bool:
        return self.status in (Status.FAIL, Status.ERROR, Status.PENDING)

    def points_text(self) -> str:
        """`3/4`, or `–/6` for a check a mode left out: not in the maximum, so no point was lost."""
        return f"–/{self.max_points}" if self.excluded else f"{self.points}/{self.max_points}"

    def skip_reason(self) -> str:
        """Why a skipped check did not run, in a word or two: `blocked by X`, `offline`, `left out`."""
        return f"blocked by {self.blocked_by}" if self.blocked_by else self.message.split(":", 1)[0]

    @property
    def shown_file(self) -> str | None:
        """`file` as every format writes it: control characters as visible escapes (`\\x1b`), as in the
        message (`clean_text`). `file` itself stays the real path, for the TUI to open."""
        return clean_text(self.file) if self.file else self.file

    def located(self) -> str:
        """The message after `file:line: ` when it points at a file its text does not name already:
        "the quote opened on line 11 is never closed" alone does not say in which file."""
        shown = self.shown_file
        if not shown or shown in self.message:
            return self.message
        return f"{shown}:{self.line}: {self.message}" if self.line else f"{shown}: {self.message}"

    def warnings(self) -> list[str]:
        """A passing check's advisory findings on a marker (one Flux's setters skip silently, one they
        set where it breaks the file), each `file:line: what (Flux: what it does)`: a report shows them
        under the check, whose message it may cut or not show. A marker is something the learner wrote
        for Flux to act on; the other advisories (a risky range or pattern) stay in the message."""
        if self.status is not Status.PASS:
            return []
        prefix = f"{ADVISORY}: "
        return [
            f"{where}: {e.text.removeprefix(prefix)}"
            for e in self.evidence
            if e.kind == DIAGNOSIS and e.text.startswith(prefix)
            for where, _, finding in [e.ref.rpartition(" ")]
            if finding.startswith(MARKER_FINDINGS)
        ]

    def redacted(self) -> CheckResult:
        """What a learner may see of a hidden check: title and status, no evidence or hint."""
        if not self.hidden:
            return self
        return replace(self, hint="", evidence=())


@dataclass(frozen=True)
class Report:
    task: str
    checks: tuple[CheckResult, ...]
    started_at: str = ""
    duration_s: float = 0.0
    tool_name: str = "fluxlab"
    tool_version: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    graded: str = "main"
    """origin's branch this run graded (the roster's, else the one the flux-system GitRepository follows):
    what the front ends name, since only the run's context knows it."""

    @property
    def score(self) -> int:
        return sum(c.points for c in self.checks if not c.excluded)

    @property
    def max_score(self) -> int:
        return sum(c.max_points for c in self.checks if not c.excluded)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for c in self.checks:
            counts[c.status.value] += 1
        return counts

    @property
    def status(self) -> Status:
        """`fail` if anything failed, else `error` if something could not be checked or is pending."""
        statuses = {c.status for c in self.checks}
        if Status.FAIL in statuses:
            return Status.FAIL
        if statuses & {Status.ERROR, Status.PENDING}:
            return Status.ERROR
        return Status.PASS

    def exit_code(self) -> int:
        """0 nothing failed, 1 a check failed, 3 nothing failed but something is unknown or pending."""
        return {Status.FAIL: 1, Status.ERROR: 3}.get(self.status, 0)

    def get(self, check_id: str) -> CheckResult:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def first_broken(self) -> CheckResult | None:
        """The first root cause in declared order: where a learner should start."""
        return next((c for c in self.checks if c.broken), None)

    def for_learner(self) -> Report:
        return replace(self, checks=tuple(c.redacted() for c in self.checks))


def graded_title(title: str, graded: str) -> str:
    """A check's title naming the branch the run graded: a task's titles say "origin/main", the branch
    its checks grade by default, where a run may grade another (the roster's, the one Flux follows)."""
    import re

    return re.sub(r"\borigin/main\b", lambda _: f"origin/{graded}", title)


def clean_text(text: str) -> str:
    """Learner-controlled text safe to show: terminal escapes and control characters (newlines and tabs
    kept) written as visible escapes (`\\x1b[31m`), not deleted, so that a value holding one does not
    read as the valid value it resembles."""
    return escape_controls(text)


def and_more(items: Sized) -> str:
    """What follows the first of several problems a check reports: ` (+N more)`, or nothing for one."""
    return f" (+{len(items) - 1} more)" if len(items) > 1 else ""


MESSAGE_LIMIT = 2000
"""A check's message is never cut in a report (docs/formats.md); this only bounds a pathological one.
Messages that quote a learner's path abbreviate it (`lab.core.text.abbreviate`), so Flux's reason after
it stays whole: a cap of 300 cut a path of terminal escapes' message inside the quoted reason."""


def one_line(text: str, limit: int | None = 300) -> str:
    """Messages are one line: no control characters, whitespace collapsed, length capped (`None`: not
    capped, for a record such as a CSV cell, where a cut message is a lost one)."""
    flat = " ".join(clean_text(text).split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


def total_points(defs: Iterable[CheckDef]) -> int:
    return sum(d.points for d in defs)
