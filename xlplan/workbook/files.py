"""Never lose a file: atomic writes, numbered backups, lock files, file-system errors as messages.

Every file XLPlan writes (workbook, CSV, backup) goes the same way: a temporary file in the
target's own folder, every byte written, ``fsync``, then ``rename`` over the target (atomic on
POSIX and on Windows' ``MoveFileEx``), then ``fsync`` of the folder. Until the rename the
previous file is untouched; on any failure the temporary file is removed and the previous file
is still there, whole. A backup never replaces an older one: it takes the next free number.

All file-system calls go through :data:`FS`, one small object, so the tests can make each
``write``, ``fsync``, ``rename``, ``link`` and ``copy`` fail in turn (as SQLite tests its I/O
layer) and check that nothing the user had is lost.

Every ``OSError`` becomes a :class:`~xlplan.core.errors.FileError` that names the path and says
what to do (:func:`file_error`).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from xlplan.core.errors import FileError

__all__ = [
    "FS",
    "AtomicFile",
    "FileSystem",
    "backup_path",
    "check_not_open",
    "file_error",
    "lock_files",
    "write_atomic",
    "write_backup",
]

CHUNK = 1 << 20
BACKUP_MARK = ".backup-"


class FileSystem:
    """The file-system calls of the write path; tests replace methods to inject faults."""

    def mkstemp(self, folder: Path, name: str) -> tuple[int, Path]:
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".xlplan-tmp")
        return fd, Path(tmp)

    def write(self, fd: int, data: memoryview) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def chmod(self, path: Path, mode: int) -> None:
        os.chmod(path, mode)

    def rename(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def link(self, src: Path, dst: Path) -> None:
        """``dst`` becomes another name of ``src``; fails when ``dst`` exists (never replaces)."""
        os.link(src, dst)

    def unlink(self, path: Path) -> None:
        os.unlink(path)

    def read_chunks(self, path: Path) -> Iterator[bytes]:
        """The content of ``path`` (the copy of a backup reads through here)."""
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def fsync_dir(self, folder: Path) -> None:
        if os.name != "posix":  # Windows has no directory handles to sync
            return
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


FS = FileSystem()


_ADVICE = {
    errno.ENOSPC: (
        "磁盘空间不足，请释放空间后重试",
        "the disk is full: free some space and run again",
    ),
    errno.EDQUOT: (
        "超出磁盘配额，请释放空间后重试",
        "the disk quota is exceeded: free some space and run again",
    ),
    errno.EACCES: (
        "没有写入权限：请确认文件夹可写、文件未设为只读，或用 -o 写到别处",
        "permission denied: make the folder writable and the file not read-only, or write "
        "elsewhere with -o",
    ),
    errno.EPERM: (
        "操作不被允许（文件可能被锁定或设为不可更改）：请解除锁定，或用 -o 写到别处",
        "operation not permitted (the file may be locked or immutable): unlock it, or write "
        "elsewhere with -o",
    ),
    errno.EROFS: (
        "文件系统为只读：请用 -o 写到可写的位置",
        "the file system is read-only: write elsewhere with -o",
    ),
    errno.ENOENT: ("找不到文件或文件夹", "no such file or folder: check the path"),
    errno.EISDIR: ("这是一个文件夹，不是文件", "this is a folder, not a file: give a file name"),
    errno.EBUSY: (
        "文件正被占用，请关闭使用它的程序后重试",
        "the file is busy: close the program using it and run again",
    ),
}


def file_error(path: Path, exc: OSError, doing: str = "write") -> FileError:
    """A bilingual :class:`FileError` for ``exc`` met while ``doing`` (``read``, ``write``,
    ``back up``) ``path``: what failed, where, and what to do."""
    zh_doing = {"read": "读取", "write": "写入", "back up": "备份", "read or write": "读写"}.get(
        doing, doing
    )
    advice = _ADVICE.get(exc.errno or 0)
    reason = exc.strerror or str(exc)
    if advice is None:
        advice = (f"系统错误：{reason}", f"system error: {reason}")
    return FileError(
        f"无法{zh_doing} {path}：{advice[0]}（{reason}）",
        f"cannot {doing} {path}: {advice[1]} ({reason})",
    )


class AtomicFile:
    """A file being written: bytes go to a temporary file beside ``target``; :meth:`commit`
    renames it over ``target``; :meth:`abort` (or any failure) removes it.

    Use :func:`write_atomic` or the ``with`` form of :func:`atomic`; ``write`` accepts ``str``
    (UTF-8) too, so pandas' ``to_csv`` can write into it.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.fd: int | None = None
        self.tmp: Path | None = None
        try:
            self.fd, self.tmp = FS.mkstemp(target.parent, target.name)
        except OSError as exc:
            raise file_error(target, exc) from exc

    def write(self, data: bytes | bytearray | memoryview | str) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        view = memoryview(data)
        total = len(view)
        assert self.fd is not None
        try:
            while len(view):
                done = FS.write(self.fd, view)
                view = view[done:]
        except OSError as exc:
            self.abort()
            raise file_error(self.target, exc) from exc
        return total

    def commit(self, mode: int | None = None) -> None:
        """Make the written bytes durable and put them in the target's place."""
        assert self.fd is not None and self.tmp is not None
        try:
            FS.fsync(self.fd)
            fd, self.fd = self.fd, None
            FS.close(fd)
            FS.chmod(self.tmp, _mode_for(self.target) if mode is None else mode)
            FS.rename(self.tmp, self.target)
            self.tmp = None
        except OSError as exc:
            self.abort()
            raise file_error(self.target, exc) from exc
        try:
            FS.fsync_dir(self.target.parent)
        except OSError:
            pass  # the rename is done; a folder that cannot be synced is no reason to fail

    def abort(self) -> None:
        """Remove the temporary file; the target is as it was."""
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                FS.close(fd)
            except OSError:
                pass
        if self.tmp is not None:
            tmp, self.tmp = self.tmp, None
            try:
                FS.unlink(tmp)
            except OSError:
                pass


@contextmanager
def atomic(target: Path) -> Iterator[AtomicFile]:
    """``with atomic(path) as f: f.write(...)``: committed when the block ends normally,
    removed when it raises."""
    out = AtomicFile(target)
    try:
        yield out
    except BaseException:
        out.abort()
        raise
    out.commit()


def write_atomic(target: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes or chunks) to ``target`` through a temporary file and a rename."""
    with atomic(target) as out:
        for chunk in [data] if isinstance(data, bytes | bytearray) else data:
            out.write(chunk)


def _mode_for(target: Path) -> int:
    """The new file keeps the old one's permissions; a new file gets the umask's default."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def backup_path(src: Path, number: int) -> Path:
    """``plan.xlsx`` -> ``plan.backup-3.xlsx``: the extension stays, so it opens as itself."""
    return src.with_name(f"{src.stem}{BACKUP_MARK}{number}{src.suffix}")


def _next_backup(src: Path) -> int:
    pattern = re.compile(re.escape(src.stem + BACKUP_MARK) + r"(\d+)" + re.escape(src.suffix) + "$")
    try:
        names = os.listdir(src.parent)
    except OSError:
        names = []
    used = [int(m.group(1)) for n in names if (m := pattern.match(n))]
    return max(used, default=0) + 1


def write_backup(src: Path) -> Path:
    """Copy ``src`` to the next free ``<stem>.backup-N<ext>`` beside it and return that path.

    The copy is written and synced under a temporary name, then linked to its final name,
    which fails rather than replace a file: an older backup is never overwritten.
    """
    number = _next_backup(src)
    try:
        fd, tmp = FS.mkstemp(src.parent, src.name)
    except OSError as exc:
        raise _backup_error(src, exc) from exc
    try:
        try:
            for chunk in FS.read_chunks(src):
                view = memoryview(chunk)
                while len(view):
                    view = view[FS.write(fd, view) :]
            FS.fsync(fd)
        finally:
            FS.close(fd)
        FS.chmod(tmp, _mode_for(src))
        while True:
            target = backup_path(src, number)
            try:
                FS.link(tmp, target)
                break
            except FileExistsError:
                number += 1
        FS.fsync_dir(src.parent)
    except OSError as exc:
        raise _backup_error(src, exc) from exc
    finally:
        try:
            FS.unlink(tmp)  # the temporary name goes; the backup keeps the data
        except OSError:
            pass
    return target


def _backup_error(src: Path, exc: OSError) -> FileError:
    inner = file_error(src, exc, "back up")
    return FileError(
        inner.zh + "；原文件未改动",
        inner.en + "; your file was not changed",
    )


def lock_files(path: Path) -> list[Path]:
    """The lock files that say another program has ``path`` open: Excel's ``~$name``
    (``~$`` over the first two characters for long names) and LibreOffice's
    ``.~lock.name#``."""
    names = ["~$" + path.name, f".~lock.{path.name}#"]
    if len(path.stem) >= 8:  # Excel shortens long names: Budget2027.xlsx -> ~$dget2027.xlsx
        names.append("~$" + path.name[2:])
    return [path.with_name(n) for n in names]


def check_not_open(path: Path) -> None:
    """Refuse when Excel or LibreOffice holds ``path`` open (a lock file lies beside it)."""
    for lock in lock_files(path):
        if lock.exists():
            app = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
            raise FileError(
                f"文件正在 {app} 中打开（存在 {lock.name}），请先关闭后再运行: {path}",
                f"the file is open in {app} ({lock.name} exists); close it and run again: {path}",
            )
