"""Files that land whole: atomic writes of one file, and publishing a set of files.

One file (:func:`atomic_write_bytes`): the bytes go to a temporary file
``.<name>.<random>.tmp`` in the destination's folder, are flushed and ``fsync``-ed, and the
temporary file is renamed over the destination (``os.replace``, atomic on POSIX and
Windows). A crash or an error mid-way leaves the old file intact; the temporary file is
removed on an error, and one left by a killed process is removed by the next write of
the same destination.

A set of files (:func:`write_set`, used for a result's CSV/JSON/NPZ files): atomic single
files are not an atomic export, since a kill between two of them leaves half a set. So
every check runs first, then the complete new version of the folder is staged in a
sibling folder and moved into place in one step, as package managers install:

- the folder does not exist: the set is written into ``.<folder>.fsl-new-0-<token>``,
  which is renamed to the folder (an atomic rename);
- the folder exists: its new version is built as ``.<folder>.fsl-new-<ino>-<token>``
  (hard links of the files that stay, a copy where a hard link is refused, new bytes for
  the set) and exchanged with the folder atomically (Linux ``renameat2`` with
  ``RENAME_EXCHANGE``); the previous version, now at the sibling's name, is then removed.

A ``SIGKILL`` at any moment therefore leaves the folder as it was or with the complete
new set. ``<ino>`` is the inode number of the folder being replaced: after the exchange
the sibling *is* that folder, which tells the next call whether a sibling left by a kill
is an unfinished new version (deleted) or the previous version (emptied and deleted).

Fallback where the exchange is not available (no ``renameat2``, a file system that
refuses it, Windows): two renames, the folder to ``.<folder>.fsl-old-<ino>-<token>`` and
the complete new version to the folder. A kill between the two leaves no folder for
that instant; the next call rolls forward (the new version was complete before the
first rename) and removes the previous version.

Every call first cleans the siblings of this naming scheme left by killed calls. Calls
on one parent folder are serialised by an advisory lock on that folder (released by the
system when a process dies), so a sibling seen by the cleaning belongs to a dead call.

Limits: the folder must hold files (and symbolic links) only, since a subfolder can be
neither hard-linked nor moved without a moment when it is missing; the folder's parent
must be writable; the new version belongs to the writing user and keeps the folder's
permission bits. A process (other than this one) whose working directory is the folder
keeps the previous version, which is removed.

This module never imports Qt.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fnmatch
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks on folders
    fcntl = None  # type: ignore[assignment]

PathLike = str | os.PathLike[str]

#: Tag of the staging folders of :func:`write_set` (``.<folder>.fsl-<kind>-<ino>-<token>``).
STAGE_TAG = "fsl"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exists_message(what: str) -> str:
    return (f"{what}; not overwritten (use force=True, or --force on the command line, "
            f"to replace it)")


# =========================================================================== one file


def atomic_write_bytes(path: PathLike, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Destination. Its directory must exist.
    data : bytes
        The whole content.
    force : bool
        Overwrite an existing file. Without it an existing file is left alone.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is false.
    OSError
        On any failure to write; the old file (if any) is then unchanged and the
        temporary file is removed.
    """
    dest = Path(path)
    if not force and dest.exists():
        raise FileExistsError(_exists_message(f"{dest} already exists"))
    folder = dest.parent if str(dest.parent) else Path(".")
    _remove_stray_temps(folder, dest.name)
    # The temporary file lives in the destination directory so that the final rename
    # never crosses a file system (which would make it a non-atomic copy).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600 files; give the result the usual permissions.
        with contextlib.suppress(OSError):
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        if force:
            os.replace(tmp, dest)
        else:
            _publish_exclusive(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(dest.parent)
    return dest


def atomic_write_text(path: PathLike, text: str, *, force: bool = False,
                      encoding: str = "utf-8") -> Path:
    """Write ``text`` atomically (see :func:`atomic_write_bytes`); newlines are kept as given."""
    return atomic_write_bytes(path, text.encode(encoding), force=force)


def _remove_stray_temps(folder: Path, name: str) -> None:
    """Remove ``.<name>.<8 characters>.tmp`` files (mkstemp's names) left by a killed write."""
    pattern = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp")
    with contextlib.suppress(OSError), os.scandir(folder) as it:
        for entry in it:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _publish_exclusive(tmp: Path, dest: Path) -> None:
    """Move ``tmp`` to ``dest`` only if ``dest`` does not exist (no check-then-write race).

    A hard link fails atomically when the destination exists; on file systems
    without hard links fall back to a check followed by a rename.
    """
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise FileExistsError(_exists_message(f"{dest} already exists")) from None
    except OSError:
        if dest.exists():
            raise FileExistsError(_exists_message(f"{dest} already exists")) from None
        os.replace(tmp, dest)
        return
    tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    """Persist a rename itself (POSIX); harmless where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# =========================================================================== a set of files


def write_set(folder: PathLike, files: Mapping[str, bytes], *,
              force: bool = False) -> list[Path]:
    """Publish ``files`` into ``folder`` as a whole (module docstring: staged, then swapped).

    Parameters
    ----------
    folder : str or path-like
        Created (with its parents) if missing. An existing folder keeps every file that
        is not in ``files``.
    files : mapping of str to bytes
        File names (no folders) and their whole content.
    force : bool
        Replace files of the same names. Without it nothing is written if any exists.

    Returns
    -------
    list of Path
        ``folder / name`` for every name, in the order of ``files``.

    Raises
    ------
    FileExistsError
        If a file of the set exists and ``force`` is false.
    NotADirectoryError
        If ``folder`` (or one of its parents) is a file.
    IsADirectoryError
        If ``folder`` holds a subfolder (or anything but files and links).
    PermissionError
        If ``folder`` or its parent is not writable.
    ValueError
        For a name that is not a plain file name.
    OSError
        On any failure to write; the folder is then as it was.

    Every check runs before anything is written, and a failure (or a kill) leaves the
    folder as it was or with the complete new set, never with part of it.
    """
    target = _resolved(folder)
    names = _checked_names(files)
    for name in names:
        if not isinstance(files[name], (bytes, bytearray, memoryview)):
            raise TypeError(f"content of {name!r} must be bytes, got "
                            f"{type(files[name]).__name__}")
    _check_creatable(target)
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent):
        _recover(target)
        _check_contents(target, names, force)
        if target.is_dir():
            _replace(target, files)
        else:
            _create(target, files)
    return [Path(folder) / name for name in names]


def check_targets(folder: PathLike, names: Iterable[str], *, force: bool = False,
                  patterns: Iterable[str] = ()) -> None:
    """Every check :func:`write_set` makes, without writing anything.

    For a front end that computes its files after the checks (a long run must not end
    in "files exist").

    Parameters
    ----------
    folder : str or path-like
    names : iterable of str
        The file names that will be written.
    force : bool
        As for :func:`write_set`: without it an existing file of the set is an error.
    patterns : iterable of str
        Shell patterns (``"*.csv"``) of names known only later (one CSV per table of a
        result); an existing file matching one counts as a file of the set.

    Raises
    ------
    FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError, ValueError
        As :func:`write_set` would.
    """
    target = _resolved(folder)
    checked = _checked_names(names)
    _check_creatable(target)
    _check_contents(target, checked, force, tuple(patterns))


def _resolved(folder: PathLike) -> Path:
    # Symbolic links resolved: the swap must replace the folder, not a link to it.
    return Path(os.path.abspath(os.fspath(folder))).resolve()


def _checked_names(names: Iterable[str]) -> list[str]:
    out = list(names)
    for name in out:
        if (not isinstance(name, str) or name in ("", ".", "..") or "/" in name
                or "\x00" in name or (os.altsep and os.altsep in name) or os.sep in name):
            raise ValueError(f"{name!r} is not a plain file name")
    return out


def _check_creatable(target: Path) -> None:
    """The folder is a writable folder in a writable parent, or can be created."""
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} is a file, not a folder")
    if target.is_dir():
        if os.path.ismount(target):
            raise OSError(errno.EXDEV, f"{target} is a mount point; export into a folder "
                                       f"inside it")
        for place in (target, target.parent):
            if not os.access(place, os.W_OK | os.X_OK | os.R_OK):
                raise PermissionError(f"cannot write into {place} (a set of files is "
                                      f"staged next to {target.name} and moved in)")
        return
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(f"cannot create {target}: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot create {target}: {ancestor} is not writable")


def _check_contents(target: Path, names: list[str], force: bool,
                    patterns: tuple[str, ...] = ()) -> None:
    """The folder holds files only, and none of the set unless ``force``."""
    if not target.exists():
        return
    if not target.is_dir():
        raise NotADirectoryError(f"{target} is a file, not a folder")
    with os.scandir(target) as it:
        entries = list(it)
    blocking = sorted(e.name for e in entries
                      if not (e.is_symlink() or e.is_file(follow_symlinks=False)))
    if blocking:
        raise IsADirectoryError(
            f"{target} holds {blocking[0]!r}, which is not a file: a set of files is "
            f"published by replacing the whole folder, which must hold files only; "
            f"export into a new or empty folder")
    existing = [n for n in names if os.path.lexists(target / n)]
    existing += sorted(e.name for e in entries if e.name not in names
                       and any(fnmatch.fnmatchcase(e.name, pat) for pat in patterns))
    if existing and not force:
        raise FileExistsError(_exists_message(
            f"{len(existing)} file(s) already exist in {target}, e.g. {existing[0]}"))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` for the duration (where the system has one)."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # e.g. a network file system without locks
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # also releases the lock


def _stage_path(target: Path, kind: str, ino: int, token: str) -> Path:
    return target.parent / f".{target.name}.{STAGE_TAG}-{kind}-{ino}-{token}"


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        with open(folder / name, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    _fsync_dir(folder)


def _create(target: Path, files: Mapping[str, bytes]) -> None:
    stage = _stage_path(target, "new", 0, secrets.token_hex(8))
    os.mkdir(stage)
    try:
        _write_files(stage, files)
        os.rename(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _fsync_dir(target.parent)


def _replace(target: Path, files: Mapping[str, bytes]) -> None:
    st = os.stat(target)
    token = secrets.token_hex(8)
    new = _stage_path(target, "new", st.st_ino, token)
    os.mkdir(new)
    try:
        os.chmod(new, stat.S_IMODE(st.st_mode))
        linked = _mirror(target, new, skip=set(files))
        _write_files(new, files)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    cwd_inside = _is_cwd(st)
    try:
        old = _swap_in(new, target, _stage_path(target, "old", st.st_ino, token))
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    _fsync_dir(target.parent)
    if cwd_inside:  # follow the folder, not the previous version about to be removed
        os.chdir(target)
    # The set is published: a failure to tidy up must not report the export as failed,
    # and whatever is left is the next call's to clean.
    with contextlib.suppress(OSError):
        _retire(old, target, set(files), linked)


def _swap_in(new: Path, target: Path, aside: Path) -> Path:
    """Put the complete version ``new`` at ``target``; returns where the previous one is."""
    if _exchange(new, target):
        return new
    os.rename(target, aside)
    try:
        os.rename(new, target)  # a kill before this line is rolled forward by _recover
    except BaseException:
        os.rename(aside, target)
        raise
    return aside


def _mirror(source: Path, dest: Path, skip: set[str]) -> dict[str, tuple[int, int]]:
    """Hard-link (else copy) every entry of ``source`` not in ``skip`` into ``dest``.

    Returns the ``(st_dev, st_ino)`` of every entry mirrored, as it was in ``source``.
    """
    mirrored: dict[str, tuple[int, int]] = {}
    with os.scandir(source) as it:
        for entry in it:
            if entry.name in skip:
                continue
            st = entry.stat(follow_symlinks=False)
            to = dest / entry.name
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), to)
            else:
                try:
                    os.link(entry.path, to, follow_symlinks=False)
                except OSError:  # no hard links here, or refused (protected_hardlinks)
                    shutil.copy2(entry.path, to)
            mirrored[entry.name] = (st.st_dev, st.st_ino)
    return mirrored


def _retire(old: Path, target: Path, names: set[str],
            mirrored: dict[str, tuple[int, int]] | None) -> None:
    """Remove the previous version ``old`` of ``target``, losing nothing that is not in it.

    An entry of ``old`` that is in the new set, or was mirrored unchanged, is removed;
    anything else appeared (or was replaced) while the new version was being built and
    moves into ``target``. ``mirrored`` is ``None`` when cleaning up after a killed call:
    the published folder then decides (an entry it has was mirrored or superseded).
    """
    with os.scandir(old) as it:
        entries = list(it)
    for entry in entries:
        dest = target / entry.name
        if mirrored is None:
            stale = os.path.lexists(dest)
        else:
            st = entry.stat(follow_symlinks=False)
            stale = entry.name in names or mirrored.get(entry.name) == (st.st_dev, st.st_ino)
        if stale and not entry.is_dir(follow_symlinks=False):
            os.unlink(entry.path)
        elif not os.path.lexists(dest) or not entry.is_dir(follow_symlinks=False):
            os.replace(entry.path, dest)
    with contextlib.suppress(OSError):  # a folder that could not move in stays visible
        os.rmdir(old)


def _recover(target: Path) -> None:
    """Finish or undo what calls killed on ``target`` left (module docstring)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{STAGE_TAG}-(new|old)-(\d+)-([0-9a-f]+)")
    groups: dict[str, dict[str, tuple[Path, int]]] = {}
    with os.scandir(target.parent) as it:
        for entry in it:
            m = pattern.fullmatch(entry.name)
            if m and entry.is_dir(follow_symlinks=False):
                groups.setdefault(m[3], {})[m[1]] = (Path(entry.path), int(m[2]))
    for group in groups.values():
        if "old" in group:
            _recover_renames(target, group)
            continue
        path, ino = group["new"]
        if target.is_dir() and os.lstat(path).st_ino == ino:
            _retire(path, target, set(), None)  # exchanged: this is the previous version
        else:
            shutil.rmtree(path)  # an unfinished new version


def _recover_renames(target: Path, group: dict[str, tuple[Path, int]]) -> None:
    """After a kill in the two-rename fallback: roll forward, then remove the old version."""
    old = group["old"][0]
    new = group["new"][0] if "new" in group else None
    if not os.path.lexists(target):
        # The new version was complete before the folder moved aside.
        os.rename(new if new is not None else old, target)
    if os.path.lexists(old):
        _retire(old, target, set(), None)
    if new is not None and os.path.lexists(new):
        shutil.rmtree(new)


def _is_cwd(st: os.stat_result) -> bool:
    try:
        cwd = os.stat(".")
    except OSError:
        return False
    return (cwd.st_dev, cwd.st_ino) == (st.st_dev, st.st_ino)


def _load_renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc before 2.28, musl without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _load_renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically; ``False`` where the system cannot.

    Raises
    ------
    OSError
        For any other failure (nothing was swapped).
    """
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))
