"""Run Flux's Setters strategy over a tree: what one ImageUpdateAutomation run would change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from lab.adapters.files import write_atomic
from lab.adapters.tree import secure_join, walk_screened
from lab.core.record import dataclass
from lab.core.refs import Change, ImageRef
from lab.core.setters import rewrite


@dataclass
class TreeResult:
    """Changes in walk order (files lexical, values in document order) and the files Flux writes."""

    root: Path
    update_root: Path
    changes: list[Change] = field(default_factory=list)
    files: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (rel path, old, new)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rel path, why) unparsable files

    @property
    def changed(self) -> bool:
        return bool(self.files)


def apply_to_tree(
    root: Path,
    update_path: str | None,
    setters: Mapping[str, ImageRef],
    namespace: str,
    *,
    dry_run: bool = False,
) -> TreeResult:
    """Apply `setters` ("ns:policy" -> ImageRef) under `root`/`update_path` as Flux would.

    Only files with a value change are written (unless `dry_run`); file names are relative to the
    update path, like Flux's result. A missing update path raises LabError with Flux's message.
    """
    root = Path(root).resolve()
    start = secure_join(root, update_path)
    result = TreeResult(root=root, update_root=start)
    pending: list[tuple[Path, bytes]] = []
    for screened in walk_screened(root, start):
        fr = rewrite(screened.content, setters, namespace, screened.rel)
        if fr.skipped:
            result.skipped.append((screened.rel, fr.skipped))
            continue
        if fr.content is None:
            continue
        result.changes.extend(fr.changes)
        result.files.append((screened.rel, screened.content, fr.content))
        pending.append((screened.path, fr.content))
    if not dry_run:
        for path, data in pending:
            write_atomic(path, data)
    return result


__all__ = ["TreeResult", "apply_to_tree"]
