"""Folders and files that only their owner may read: the state folder, the SQLite state
file and every log hold command output and rows of the error queue, whatever the umask."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import BinaryIO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """``mkdir -p`` whose new folders are 0700; a folder that exists keeps its mode."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty (and its folders) with mode 0600 unless it exists.

    A file that exists is not opened at all: closing any descriptor of an SQLite file
    drops the POSIX locks that every connection of this process holds on it."""
    if not path.exists():
        private_folder(path.parent)
        with contextlib.suppress(FileExistsError):  # another process was first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def open_private(path: Path, *, append: bool = False) -> BinaryIO:
    """Open ``path`` for writing bytes (truncated unless ``append``); mode 0600."""
    private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "ab" if append else "wb")


def hold_alone(path: Path) -> BinaryIO | str:
    """An exclusive lock on ``path`` (a 0600 file holding the holder's pid) for as long as the
    returned file stays open, or, when another process holds it, that holder's pid as text.

    The kernel drops the lock with its holder, so a holder killed with -9 leaves none."""
    handle = open_private(path, append=True)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return path.read_text().strip() or "?"
    os.ftruncate(handle.fileno(), 0)
    handle.write(f"{os.getpid()}\n".encode())
    handle.flush()
    return handle
