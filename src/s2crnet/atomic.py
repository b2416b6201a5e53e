"""Writes that cannot lie: every output is staged in a temporary file beside its target,
flushed to the disk, checked, and only then renamed into place.

A reader never sees a half-written file; a failure (a full disk, a read-only folder, no
permission) raises :class:`~s2crnet.errors.OutputError` naming the *output* and the
reason, and leaves no temporary file and no changed target behind. Several outputs of one
run are all or nothing (:class:`OutputSet`): all are staged and checked before any is
renamed.

Temporary files are named ``.NAME.XXXXXXXX.s2crnet-tmp`` (hidden, in the target's
folder); :func:`remove_stale_temporaries` clears those a killed process left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from .errors import OutputError

__all__ = [
    "TEMP_SUFFIX",
    "OutputSet",
    "check_output_folder",
    "describe_os_error",
    "output_error",
    "remove_stale_for",
    "remove_stale_temporaries",
    "scratch_file",
    "staged_file",
    "write_atomic",
]

#: The suffix of every temporary file this package writes.
TEMP_SUFFIX = ".s2crnet-tmp"

#: ``check(path)`` raises if the staged file at ``path`` is not what was meant.
Check = Callable[[Path], None]


def describe_os_error(exc: OSError) -> str:
    """A short, user-facing reason for an ``OSError``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the folder is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    return exc.strerror or str(exc)


def check_output_folder(path: str | os.PathLike) -> None:
    """Raise :class:`OutputError` unless ``path``'s folder exists (the one check every
    writer makes before any work is done)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise OutputError(f"{path}: output folder {folder} does not exist", path=Path(path))


def output_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """The :class:`OutputError` for an ``OSError`` met while writing ``path``."""
    return OutputError(
        f"{path}: cannot write ({describe_os_error(exc)})", path=Path(path), errno=exc.errno
    )


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short write is not an error by itself)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - the kernel reports errors as OSError
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def _mode_for(path: Path) -> int:
    """The existing file's mode, or what a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable; some file systems cannot open folders, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_for(path: str | os.PathLike, older_than: float = 60.0) -> list[Path]:
    """Remove the temporary files of ``path`` (``.NAME.*.s2crnet-tmp*``) that a killed run
    left, those untouched for ``older_than`` seconds (a run writing the same name now
    keeps its file); returns them. Every write calls it for its own target."""
    import glob
    import time

    path = Path(path)
    removed = []
    now = time.time()
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}*"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
    return removed


def _stage(path: Path, data: bytes, check: Check | None) -> Path:
    """Write ``data`` to a new temporary file beside ``path``, fsync and check it."""
    remove_stale_for(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size != len(data):
            raise OutputError(
                f"{path}: cannot write (only {size} of {len(data)} bytes reached the disk)",
                path=path,
                errno=errno.EIO,
            )
        if check is not None:
            check(tmp)
        os.chmod(tmp, _mode_for(path))
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise output_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class OutputSet:
    """Several outputs written all or nothing.

    :meth:`add` stages each output (written, fsynced, checked) under a temporary name;
    leaving the ``with`` block normally renames every staged file into place, leaving it
    with an exception removes them all, so no target changes.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet() as outputs:
    ...     outputs.add(folder / "a.txt", "one")
    ...     outputs.add(folder / "b.txt", b"two")
    >>> [p.name for p in outputs.written], sorted(p.name for p in folder.iterdir())
    (['a.txt', 'b.txt'], ['a.txt', 'b.txt'])
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)
        self.written: list[Path] = []

    def add(self, path: str | os.PathLike, data: bytes | str, check: Check | None = None) -> None:
        """Stage ``data`` (text is written as UTF-8) for ``path``."""
        path = Path(path)
        if any(target == path for _, target in self._staged):
            raise ValueError(f"{path}: written twice in one output set")
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self._staged.append((_stage(path, raw, check), path))

    def discard(self) -> None:
        """Remove every staged file (nothing has been renamed)."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def commit(self) -> list[Path]:
        """Rename every staged file into place; returns the targets.

        A rename within one folder fails only in odd cases (the target became a folder,
        the folder was made read-only meanwhile); then the targets not yet renamed are
        left as they were, the new files already renamed are removed, and the error names
        the output that failed.
        """
        done: list[tuple[Path, bool]] = []
        try:
            for tmp, target in self._staged:
                existed = target.exists()
                os.replace(tmp, target)
                done.append((target, existed))
        except OSError as exc:
            failed = self._staged[len(done)][1]
            for target, existed in done:
                if not existed:
                    target.unlink(missing_ok=True)
            self.discard()
            raise output_error(failed, exc) from None
        for folder in {target.parent for _, target in self._staged}:
            _fsync_folder(folder)
        self.written = [target for _, target in self._staged]
        self._staged.clear()
        return self.written

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_atomic(path: str | os.PathLike, data: bytes | str, check: Check | None = None) -> Path:
    """Write one output atomically (see :class:`OutputSet`); returns its path.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> _ = write_atomic(target, "done")
    >>> target.read_text()
    'done'
    """
    with OutputSet() as outputs:
        outputs.add(path, data, check)
    return Path(path)


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed process left in ``folder``; returns them.

    Besides this package's own ``*.s2crnet-tmp`` files, the names that earlier versions
    used for a training run's outputs (``.state.*.pt``, ``.last.*``, ``.best.*``,
    ``.config.*``, ``.step-*``, ``.tmp*``) are removed too.
    """
    folder = Path(folder)
    patterns = (
        f".*{TEMP_SUFFIX}*",
        ".state.*.pt",
        ".last.*.safetensors",
        ".best.*.safetensors",
        ".config.*.yaml",
        ".step-*.*.safetensors",
        ".tmp*",
    )
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for pattern in patterns:
        for path in folder.glob(pattern):
            if path.is_file() and path not in removed:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


@contextlib.contextmanager
def staged_file(path: str | os.PathLike, check: Check | None = None) -> Iterator[Path]:
    """For an output too large to hold in memory (a video): yield a temporary path beside
    ``path`` (same suffix) to write; on a normal exit it is fsynced, its ``check`` run
    and renamed to ``path``; on any failure it is removed and ``path`` is untouched.
    An ``OSError`` becomes an :class:`OutputError` naming ``path``.
    """
    path = Path(path)
    remove_stale_for(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}{path.suffix}"
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if check is not None:
            check(tmp)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def scratch_file(path: str | os.PathLike) -> Iterator[Path]:
    """A scratch file name in ``path``'s folder (for a library that insists on writing a
    file itself), removed on exit whatever happens; an ``OSError`` inside names ``path``.
    """
    path = Path(path)
    scratch = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}{path.suffix}"
    try:
        yield scratch
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
