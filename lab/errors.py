"""Errors a learner can act on.

Every failure that reaches a front end is a `LabError`: one line naming the file/field/object and,
where there is one, a hint. Front ends print `str(err)`; they never show a traceback.
"""

from __future__ import annotations

import errno


class LabError(Exception):
    """A problem with the learner's input or environment, phrased for the learner."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.field = field

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.field and self.field not in self.message:
            text += f" (field {self.field})"
        if self.hint:
            text += f" - hint: {self.hint}"
        return text


class UsageError(LabError):
    """Wrong command-line usage (exit code 2, like argparse)."""

    exit_code = 2


class WriteFailed(LabError, OSError):
    """A file could not be written: a read-only file system, a full disk, no permission. An OSError
    still (callers that carry on without the file catch that), and a LabError naming the file."""

    def __init__(self, path: str, err: OSError) -> None:
        reason = write_failure(err)
        super().__init__(
            f"cannot write it: {reason}", file=path, hint=WRITE_HINTS.get(err.errno or 0, _WRITE_HINT)
        )
        self.errno, self.strerror, self.filename = err.errno, err.strerror, path


def write_failure(err: OSError) -> str:
    """What stopped a write, in the words of the system ("read-only file system", "no space left on
    device"), without the temporary file's name an OSError carries."""
    return (err.strerror or type(err).__name__).lower()


_WRITE_HINT = "check that you may write there (ls -ld DIR)"
#: By errno: what to do about a write that failed.
WRITE_HINTS = {
    errno.EROFS: "the file system is mounted read-only: work in a writable copy (or remount it)",
    errno.ENOSPC: "the disk is full: free some space (df -h .) and run the command again",
    errno.EDQUOT: "your disk quota is used up: free some space and run the command again",
}
#: What only a write meets, and only the environment causes: never an internal error, wherever it happens.
ENVIRONMENT_ERRNOS = frozenset(WRITE_HINTS)


class GitError(LabError):
    """A git operation failed or was refused to protect the learner's work."""


class RegistryError(LabError):
    """A container registry could not be read (network, auth, rate limit, missing repository)."""


def registry_unreachable(err: object) -> bool:
    """A registry that could not be reached at all (no network, DNS, refused, timeout), as opposed to
    one that answered no (401, 404, a bad name): only the first may fall back to a task's bundled tags."""
    return getattr(err, "status", 0) == 0 and not getattr(err, "code", "")


class ClusterError(LabError):
    """The Kubernetes API could not be reached or refused a request."""


class ClusterUnreachable(ClusterError):
    """The Kubernetes API did not answer at all (refused, timed out, unknown host). `timed_out`: it took
    the connection or the request and never answered, so asking again at once is likely to cost the
    timeout again (a refused connection costs nothing)."""

    def __init__(self, message: str, *, hint: str | None = None, timed_out: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.timed_out = timed_out


class TaskDataError(LabError):
    """A task folder's data that a check cannot work with (a missing or mistyped parameter): the fault
    of the task's author, not of the learner's repository."""
