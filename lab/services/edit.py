"""Editing the learner's files from the app: which files, reading one, saving it back.

The app's editor is a thin screen over these functions. A file is always a path inside the workspace:
a path that climbs out (`..`, an absolute path) or a symlink that leads out is refused, as are git's
own files, anything that is not a regular file (a FIFO, a device, a directory) and files too big to
edit. Saving is one atomic rename, and it refuses to overwrite a file that changed on disk since it was
opened unless told to (`force`), so neither the learner's edit nor the other change is lost unseen.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

from lab.adapters.files import read_regular, write_atomic
from lab.adapters.tree import walk_entries
from lab.core import yamlsafe
from lab.core.record import dataclass
from lab.core.text import escape_controls
from lab.errors import LabError

#: Bigger files are not opened in the editor (manifests are a few kB): the limit the checks read with,
#: so that a file the checks read can be opened to fix it.
MAX_EDIT_BYTES = yamlsafe.MAX_BYTES
#: The file list stops here (a workspace with a vendored tree must not stall the picker).
MAX_LISTED = 2000


@dataclass(frozen=True)
class EditableFile:
    """A file the picker offers: `declared` when it is one of the task's own files."""

    rel: str
    declared: bool
    exists: bool

    @property
    def display(self) -> str:
        return escape_controls(self.rel)


@dataclass(frozen=True)
class OpenedFile:
    """A file as the editor opened (or last saved) it. `digest` is the sha256 of its bytes on disk
    then; None when the file does not exist yet (saving creates it)."""

    rel: str
    text: str
    digest: str | None
    task: str | None = None
    """The task the workspace recorded then (`.fluxlab/task.json`): a save refuses once it differs."""

    @property
    def display(self) -> str:
        return escape_controls(self.rel)


class WorkspaceTaskChanged(LabError):
    """The repository works on another task than when the file was opened (`lab sandbox reset --task`
    in another shell): the buffer belongs to the old task, and saving it would mix it into the new one."""

    def __init__(self, rel: str, was: str | None, now: str | None) -> None:
        super().__init__(
            f"the repository now works on task {now or 'none'}, not {was or 'none'} as when "
            "you opened this file (.fluxlab/task.json changed, e.g. `lab sandbox reset --task`)",
            file=escape_controls(rel),
            hint="nothing is lost: your text stays in this editor; copy it where it belongs (a reset keeps "
            "the previous repository under the sandbox's previous/), then close without saving",
        )


class FileChangedOnDisk(LabError):
    """Saving would overwrite a change made on disk since the file was opened."""

    def __init__(self, rel: str, current: str | None) -> None:
        what = "was deleted" if current is None else "changed on disk"
        super().__init__(
            f"{what} since you opened it",
            file=escape_controls(rel),
            hint="look at the difference, then overwrite it or keep editing",
        )
        self.current = current


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _normalise(rel: str) -> str:
    parts = [p for p in rel.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    shown = escape_controls(rel)
    if not parts or rel.strip().startswith("/"):
        raise LabError(
            f"{shown!r} is not a path inside the repository", hint="e.g. apps/base/deployment.yaml"
        )
    if ".." in parts:
        raise LabError(f"{shown!r} climbs out of the repository", hint="name a file inside it")
    if parts[0] == ".git":
        raise LabError(f"{shown} is git's own file", hint="edit the repository's files, not .git")
    return "/".join(parts)


def resolve_editable(workspace: Path, rel: str) -> tuple[str, Path]:
    """(normalised rel, the path to read and write) for `rel` inside `workspace`; LabError when it
    leaves the workspace (also through a symlink), is git's, or exists and is not a regular file."""
    rel = _normalise(rel)
    root = workspace.resolve()
    candidate = root / rel
    target = candidate.resolve()  # follows every symlink on the way, dangling ones included
    shown = escape_controls(rel)
    if not target.is_relative_to(root):
        raise LabError(
            f"{shown} is a symlink that leads out of the repository",
            hint="the editor only opens files inside the workspace",
        )
    inside = target.relative_to(root).parts
    if inside and inside[0] == ".git":
        raise LabError(f"{shown} leads into git's own files", hint="edit the repository's files, not .git")
    try:
        st = target.lstat()
    except FileNotFoundError:
        return rel, target
    except OSError as err:
        raise LabError(f"cannot open {shown}: {err.strerror or err}") from err
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise LabError(f"{shown} is {kind}", hint="the editor opens regular text files")
    if st.st_size > MAX_EDIT_BYTES:
        raise LabError(
            f"{shown} is too big to edit here ({st.st_size} bytes, at most {MAX_EDIT_BYTES})",
            hint="use your own editor for it",
        )
    return rel, target


def _read(target: Path, rel: str) -> bytes | None:
    try:
        return read_regular(target, MAX_EDIT_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno == errno.ELOOP:  # swapped for a symlink since it was resolved
            raise LabError(f"{escape_controls(rel)} became a symlink; not opened") from err
        raise LabError(f"cannot open {escape_controls(rel)}: {err.strerror or err}") from err


def _decode(data: bytes, rel: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError(
            f"{escape_controls(rel)} is not UTF-8 text (byte {err.start})", hint="the editor opens text files"
        ) from err


def open_file(workspace: Path, rel: str) -> OpenedFile:
    """The file's text (blocking: call it from a worker). A path that does not exist opens empty and
    is created on the first save."""
    rel, target = resolve_editable(workspace, rel)
    data = _read(target, rel)
    task = _workspace_task(workspace)
    if data is None:
        return OpenedFile(rel, "", None, task)
    return OpenedFile(rel, _decode(data, rel), _digest(data), task)


def _workspace_task(workspace: Path) -> str | None:
    from lab.adapters.tasks import recorded_task

    try:
        return recorded_task(workspace)
    except LabError:  # unreadable: checks and `lab` say why; the editor compares what it can
        return None


def save_file(workspace: Path, opened: OpenedFile, text: str, *, force: bool = False) -> OpenedFile:
    """Write `text` to the file `opened` came from, atomically; FileChangedOnDisk when the file is no
    longer what was opened (changed, created or deleted meanwhile) unless `force`; WorkspaceTaskChanged,
    forced or not, when the workspace works on another task than when the file was opened."""
    rel, target = resolve_editable(workspace, opened.rel)
    task = _workspace_task(workspace)
    if task != opened.task:
        raise WorkspaceTaskChanged(rel, opened.task, task)
    current = _read(target, rel)
    if not force and (None if current is None else _digest(current)) != opened.digest:
        raise FileChangedOnDisk(rel, None if current is None else current.decode("utf-8", "replace"))
    data = text.encode("utf-8")
    try:
        write_atomic(target, data)
    except OSError as err:
        raise LabError(f"cannot save {escape_controls(rel)}: {err.strerror or err}") from err
    return OpenedFile(rel, text, _digest(data), task)


def editable_files(workspace: Path, task_id: str) -> list[EditableFile]:
    """The task's own files first (those it asks you to write and PROGRESS.md, also when they do not
    exist yet), then every other regular file of the workspace outside .git."""
    from lab.services.sync import task_paths
    from lab.services.tasks import load_task

    root = workspace.resolve()
    # The quiz record is the quiz's to write: listed with the rest when it exists, not as a task file.
    record = load_task(task_id).meta.quiz_record
    declared = [rel for rel in dict.fromkeys(task_paths(task_id)) if rel != record]
    listed = [EditableFile(rel, True, (root / rel).is_file()) for rel in declared]
    seen = set(declared)
    for entry in walk_entries(root, skip_dirs=frozenset({".git"})):
        if len(listed) >= MAX_LISTED:
            break
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        rel = Path(os.path.relpath(entry.path, root)).as_posix()
        if rel not in seen and not rel.startswith(".git/"):
            seen.add(rel)
            listed.append(EditableFile(rel, False, True))
    return listed


def disk_diff(opened: OpenedFile, text: str, current: str | None) -> str:
    """What saving `text` would do to the file as it is on disk now (for the overwrite question)."""
    from lab.core.diff import file_diff

    return file_diff(opened.rel, current or "", text)


__all__ = [
    "MAX_EDIT_BYTES",
    "EditableFile",
    "FileChangedOnDisk",
    "OpenedFile",
    "WorkspaceTaskChanged",
    "disk_diff",
    "editable_files",
    "open_file",
    "resolve_editable",
    "save_file",
]
