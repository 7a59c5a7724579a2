"""The folders an exclude file (.gitignore, info/exclude) certainly ignores, as git's wildmatch would.

Only what a walk of the working tree may safely skip: git does not descend into an ignored folder, so
an exclude file inside one is never read. A line this module does not follow (a pattern with a `/`
inside, `**`, an escape) never skips a folder, and a `!` line keeps every folder below its file
walked, since it can bring one back."""

from __future__ import annotations

import fnmatch

from lab.core.record import dataclass


@dataclass(frozen=True)
class FolderPatterns:
    """One exclude file's patterns that name a folder by its own name."""

    anywhere: tuple[str, ...] = ()  # `build`, `*.egg-info/`: any folder below the file
    here: tuple[str, ...] = ()  # `/dist`: only a folder right beside the file
    negates: bool = False  # a `!` line: nothing below the file is skipped


def folder_patterns(text: str, *, whole: bool = True) -> FolderPatterns:
    """The folder patterns of an exclude file's `text`; not `whole` (only its start was read): a later
    `!` line may bring any folder back, so none below the file is skipped."""
    if not whole:
        return FolderPatterns(negates=True)
    anywhere: list[str] = []
    here: list[str] = []
    negates = False
    # git splits its exclude files on "\n" alone and drops one "\r" before it (str.splitlines also
    # splits on "\f", "\x1c", U+2028...: a line git reads as one pattern would be read as two).
    for raw in text.split("\n"):
        line = raw.removesuffix("\r").rstrip(" ")
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            negates = True
            continue
        anchored = line.startswith("/")
        name = line.removeprefix("/").removesuffix("/")
        if not name or "/" in name or "\\" in name or "**" in name or "[^" in name:
            continue
        (here if anchored else anywhere).append(name)
    return FolderPatterns(tuple(anywhere), tuple(here), negates)


def ignores_folder(name: str, here: tuple[FolderPatterns, ...], above: tuple[FolderPatterns, ...]) -> bool:
    """Whether git certainly ignores the folder `name`, given the exclude files of its parent folder
    (`here`: its .gitignore, and at the top info/exclude and core.excludesFile) and of the folders
    above it (`above`)."""
    every = (*here, *above)
    if any(p.negates for p in every):
        return False
    return any(fnmatch.fnmatchcase(name, pat) for p in here for pat in p.here) or any(
        fnmatch.fnmatchcase(name, pat) for p in every for pat in p.anywhere
    )
