"""Files of the state folder: durable replacement, no symbolic link followed, private modes.

`write_atomic` writes a temporary file beside the target, fsyncs it, renames it over the target and
fsyncs the folder: after a crash at any moment the target holds either its old bytes or its new
bytes, never a mix — the rule every file maildaemon writes (state, quarantine, outbox) follows.

Nothing inside the state folder is trusted to be what its name says (SPEC 9, "The state folder"):
the folder a file is written into is opened with O_NOFOLLOW, and every name is then used relative to
that open folder, so a symbolic link planted as `quarantine/` or `outbox/` is refused, never written
through. Files are created 0600 and folders 0700 whatever the umask.

Any OSError on such a file is raised as `StateIOError`: still an OSError (errno, strerror and
filename intact, so `except OSError` keeps working), whose `str()` is the one line the user sees —
which file, what went wrong, and what to do (`free space in ...` when the disk is full).
"""
from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


class StateIOError(OSError):
    """An OSError on a file of the state folder; `str()` is one line: the file, the problem, the fix."""

    def __init__(self, code: int, strerror: str, filename, line: str):
        super().__init__(code, strerror, str(filename))
        self.line = line

    def __str__(self) -> str:
        return self.line


_OWNER: tuple[str, int, int] | None = None     # (state folder, uid, gid) new files are given to


def adopt_owner(folder, uid: int, gid: int) -> None:
    """Root at work in the service's state folder (SPEC 11, "Ownership"): every file and folder
    created in it from now on is given to its owner, so the service can still read and replace
    them (a root-owned 0600 state file stops it with "Permission denied")."""
    global _OWNER
    _OWNER = (os.path.realpath(folder), uid, gid)


def give(fd: int, path) -> None:
    """Hand a file or folder just created at `path` (open as `fd`) to the state folder's owner,
    when `adopt_owner` asked for it and `path` is inside that folder."""
    if _OWNER is None:
        return
    folder, uid, gid = _OWNER
    where = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if where == folder or where.startswith(folder + os.sep):
        os.fchown(fd, uid, gid)


def explain(e: OSError, path, doing: str = "write") -> StateIOError:
    """`e` (raised while `doing` something to `path`) as the one line a user can act on."""
    if isinstance(e, StateIOError):
        return e
    path = Path(path)
    code = e.errno or 0
    strerror = e.strerror or str(e)
    folder = path.parent
    if code in _FULL:
        fix = f"free space in {folder}" + (" (or raise the quota)" if code == errno.EDQUOT else "")
    elif code in _DENIED:
        fix = f"check that {folder} exists and this user may write it"
    elif code == errno.ENOENT:
        fix = f"check that {folder} exists (MAILDAEMON_STATE_DIR)"
    elif code in (errno.ELOOP, errno.ENOTDIR) and _is_link(path):
        return link_refused(path)
    else:
        fix = "check the disk and the state folder"
    return StateIOError(code, strerror, path, f"cannot {doing} {path}: {strerror}; {fix}")


def link_refused(path) -> StateIOError:
    return StateIOError(errno.ELOOP, "is a symbolic link", path,
                        f"{path} is a symbolic link, which maildaemon does not follow in its state folder; "
                        f"remove the link (and put the real file or folder there if it was meant)")


def _not_a_folder(path) -> StateIOError:
    return StateIOError(errno.ENOTDIR, "Not a directory", path,
                        f"{path} is not a folder; move it away so maildaemon can create the folder")


def _is_link(path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def open_dir(path, follow: bool = False) -> int:
    """An fd of the folder `path` (the caller closes it); a symbolic link there is refused unless `follow`."""
    flags = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        return os.open(path, flags)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise (link_refused(path) if _is_link(path) else _not_a_folder(path)) from None
        raise explain(e, path, "open the folder") from None


def ensure_dir(path) -> Path:
    """The folder `path` (created 0700 if missing; its parent must exist). A symbolic link or a file
    in its place is refused with `StateIOError`, never followed. For `quarantine/` and `outbox/`."""
    path = Path(path)
    try:
        os.mkdir(path, DIR_MODE)
        created = True
    except FileExistsError:
        created = False
    except OSError as e:
        raise explain(e, path, "create the folder") from None
    fd = open_dir(path)
    try:
        if created:
            os.fchmod(fd, DIR_MODE)         # exactly 0700 whatever the umask
            give(fd, path)
    except OSError:
        pass
    finally:
        os.close(fd)
    return path


def read_bytes(path, follow_dir: bool = False, limit: int | None = None) -> bytes:
    """A regular file of the state folder, read without following a symbolic link (neither the file
    nor, unless `follow_dir`, its folder). Raises `StateIOError`; FileNotFoundError stays as it is
    (its `str()` made one line) so callers can tell "missing" apart."""
    path = Path(path)
    dfd = open_dir(path.parent, follow=follow_dir)
    try:
        try:
            fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            raise
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise link_refused(path) from None
            raise explain(e, path, "read") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise StateIOError(errno.EINVAL, "not a regular file", path,
                                   f"{path} is not a regular file; move it away")
            try:
                return f.read() if limit is None else f.read(limit)
            except OSError as e:
                raise explain(e, path, "read") from None
    finally:
        os.close(dfd)


def write_atomic(path, data: bytes, mode: int = FILE_MODE, follow_dir: bool = False) -> None:
    """Replace `path` by `data` durably (mode 0600 by default, whatever the umask).

    The folder is opened once without following a symbolic link (unless `follow_dir`, for a folder
    the user named, such as the state folder itself or `rotation ics --out`), and the temporary
    file, the rename and the fsync all act on that open folder. Raises `StateIOError`.
    """
    path = Path(path)
    dfd = open_dir(path.parent, follow=follow_dir)
    try:
        tmp = _create_temp(dfd, path)
        try:
            fd, name = tmp
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                give(f.fileno(), path)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(name, path.name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp[1], dir_fd=dfd)
            except OSError:
                pass
            raise
        os.fsync(dfd)
    except OSError as e:
        raise explain(e, path) from None
    finally:
        os.close(dfd)


def _create_temp(dfd: int, path: Path) -> tuple[int, str]:
    for _ in range(100):
        name = f".tmp-{secrets.token_hex(6)}"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC,
                           FILE_MODE, dir_fd=dfd), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def describe(e: OSError) -> str:
    """Any OSError as one line with the path and the reason (no `[Errno N]` noise, no traceback)."""
    if isinstance(e, StateIOError):
        return str(e)
    where = e.filename if e.filename is not None else ""
    what = e.strerror or str(e)
    return f"{where}: {what}" if where else what


def read_range(path, start: int, end: int) -> bytes:
    """Bytes [start, end) of a regular file of the state folder, without following a link.
    A missing file reads as empty (nothing was ever appended to it)."""
    if end <= start:
        return b""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return b""
    except OSError as e:
        raise (link_refused(path) if e.errno == errno.ELOOP else explain(e, path, "read")) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StateIOError(errno.EINVAL, "not a regular file", path, f"{path} is not a regular file; move it away")
        chunks, at = [], start
        while at < end:
            chunk = os.pread(fd, min(end - at, 1 << 24), at)
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise explain(e, path, "read") from None
    finally:
        os.close(fd)


def open_own(path, flags: int, fix: str = "move it away") -> tuple[int, os.stat_result]:
    """(fd, its stat) of a plain file of the state folder, created 0600 if missing: never through
    a symbolic link, and neither a hard link nor anything but a regular file (another user could
    otherwise make us write where they choose). Raises `StateIOError` ending with `fix`."""
    path = Path(path)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC, FILE_MODE)
    except OSError as e:
        raise (link_refused(path) if e.errno == errno.ELOOP else explain(e, path, "open")) from None
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size == 0:
        give(fd, path)                                   # made now (or empty): the owner's
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        what = "a hard link" if stat.S_ISREG(st.st_mode) else "not a regular file"
        raise StateIOError(errno.EINVAL, "not a plain file", path,
                           f"{path} is not a plain file of its own ({what}); {fix}")
    return fd, st


def append_at(path, start: int, data: bytes) -> int:
    """Write `data` at offset `start` of `path` (created 0600 if missing), cutting anything after
    `start` first (the tail of a write that was never committed), then fsync. Returns the new
    length. Never follows a symbolic link. Raises `StateIOError`."""
    path = Path(path)
    fd, st = open_own(path, os.O_WRONLY)
    try:
        if st.st_size < start:
            raise StateIOError(errno.EIO, "shorter than recorded", path,
                               f"{path} is shorter ({st.st_size} bytes) than the state records ({start}): "
                               f"it was cut or replaced; restore the state folder from a backup")
        if st.st_size > start:
            os.ftruncate(fd, start)
        at = start
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, at)
            at += n
            view = view[n:]
        os.fsync(fd)
        if start == 0:                      # a new file: make its name durable too
            dfd = open_dir(path.parent, follow=True)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        return at
    except OSError as e:
        raise explain(e, path) from None
    finally:
        os.close(fd)
