"""Writing files that may hold a stack's details (plans, reports, manifests): readable by the owner only.

A plan or a report names every resource and may hold values the masking could not recognise, so
files are created with mode 0600 and the directories the preview creates with mode 0700, whatever
the umask; an existing file is truncated and its mode set to 0600 before anything is written.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def make_private_directory(path: Path | str) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (existing directories are left as they are)."""
    path = Path(path)
    missing = []
    for directory in (path, *path.parents):
        if directory.exists():
            break
        missing.append(directory)
    for directory in reversed(missing):
        directory.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        os.chmod(directory, DIRECTORY_MODE)
    return path


def write_private_text(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` with mode 0600, creating missing parent directories with mode 0700."""
    path = Path(path)
    make_private_directory(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            descriptor = -1
            stream.write(text)
    finally:
        if descriptor != -1:
            os.close(descriptor)
    return path
