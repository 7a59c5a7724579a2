"""What a learner is told about a git working tree git has left half-way, or off any branch.

Pure text: the adapters refuse to write in such a tree with it, and `lab sync` / the app's `p` explain
the tree's state with it, so both give the same advice.
"""

from __future__ import annotations

from collections.abc import Sequence


def stopped_advice(busy: str, branch: str | None, conflicted: Sequence[str]) -> tuple[str, str]:
    """(what git left half-way, how to finish it) for a stopped rebase, merge, cherry-pick or revert.
    Only finishing or aborting it helps: git refuses `git switch` meanwhile, and HEAD is detached
    during a rebase, so "switch to your branch" would send the learner into a second refusal."""
    what = f"a {busy}{f' of {branch}' if branch else ''} is stopped"
    finish, abort = f"git {busy} --continue", f"git {busy} --abort"
    if conflicted:
        return (
            f"{what}; conflicts in {', '.join(conflicted)}",
            f"keep the lines you want, git add the file(s), {finish} (or {abort} to go back)",
        )
    return what, f"git status says where it stands; {finish} finishes it (or {abort} to go back)"


def detached_advice(head: str | None, on: Sequence[str], watched: str) -> tuple[str, str]:
    """(where a detached HEAD is, how to get back to a branch). Whether origin has the commit decides
    the advice: switching away from commits only HEAD has leaves them to the reflog."""
    at = f"HEAD is detached at {head[:7]}" if head else "HEAD is detached"
    if on:
        branch = watched if watched in on else on[0]
        return f"{at} (on origin/{branch})", f"git switch {watched} to work on your branch again"
    return (
        f"{at}, a commit origin does not have",
        f"git switch -c NAME keeps it on a new branch (git switch {watched} leaves it behind)",
    )
