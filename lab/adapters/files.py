"""Writing files so that a killed process leaves the old content or the new one, never half of each;
reading untrusted files so that a FIFO, a device or an endless file cannot hang or exhaust the lab."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from lab.errors import WriteFailed


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, fsync: bool = True) -> None:
    """Replace `path` with `data` through a temporary file in the same directory and one rename.

    `mode` None keeps an existing file's mode (0o644 for a new file). `fsync=False` suits state that
    is rewritten often and only has to survive a killed process, not a power cut.
    """
    with writing(path):
        _write_atomic(path, data, mode, fsync)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Around a write to `path` (a file, or a directory made for one): an OSError is a WriteFailed
    naming `path` - a read-only workspace or a full disk is the environment, never an internal error."""
    try:
        yield
    except WriteFailed:
        raise
    except OSError as err:
        raise WriteFailed(str(path), err) from err


def _write_atomic(path: Path, data: bytes, mode: int | None, fsync: bool) -> None:
    import tempfile  # here: readers (`lab check`) need not load it

    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def not_regular_name(mode: int) -> str:
    """What a file of `mode` is, for a message: \"a FIFO\", \"a character device\", \"a directory\" ..."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def not_regular(path: Path) -> str | None:
    """None when `path` (symlinks followed) is a regular file, else what it is: "not found", "a FIFO",
    "a character device", "a directory" ... (for a message naming the file)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "not found"
    except OSError as err:
        return err.strerror or "unreadable"
    return None if stat.S_ISREG(mode) else not_regular_name(mode)


def read_regular(path: Path, limit: int, *, follow_symlinks: bool = True, truncate: bool = False) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes (`truncate`: its first
    `limit` bytes, whatever its size).

    Learners' trees and command-line arguments can name FIFOs (a read blocks for ever) and devices
    such as /dev/zero (a read never ends, whatever size stat reports), so the file is opened without
    blocking, checked with fstat on the open descriptor (no swap between check and read), and read
    with the limit enforced on the bytes actually read. Failures are OSErrors whose `strerror`
    says what the file is ("a FIFO", "larger than N bytes"), so callers' OSError handling applies.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL  # EISDIR: IsADirectoryError
            raise OSError(code, not_regular_name(mode), str(path))
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                if not truncate:
                    raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
