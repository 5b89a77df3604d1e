"""The audit's one exception for bad input, and one line for an operating-system error, never a traceback.

>>> os_error_line(FileNotFoundError(2, "No such file or directory", "data/x.csv"))
'data/x.csv: no such file or directory'
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

__all__ = ["DataContractError", "not_a_file", "os_error_line", "yaml_error_line"]


class DataContractError(ValueError):
    """Bad input. The message names the file, the column, the rows and what was expected."""


_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space and run again (nothing was published)",
    errno.EDQUOT: "the disk quota is used up; free some space and run again (nothing was published)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only; choose another folder",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
}


def os_error_line(exc: OSError) -> str:
    """``path: what went wrong`` (lower-case), naming both paths of a failed move or copy."""
    what = _ADVICE.get(exc.errno) or (exc.strerror or exc.__class__.__name__).lower()
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    where = " → ".join(paths) if paths else "a file"
    return f"{where}: {what}"


def not_a_file(path: Path) -> str | None:
    """None for a regular file; otherwise what the path is instead ("a directory", "a named pipe (FIFO)" …)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None  # reported when read
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def yaml_error_line(exc: Exception, name: str) -> str:
    """``name: line N not valid YAML (ParserError)`` for a settings or mapping file that does not parse."""
    line = getattr(getattr(exc, "problem_mark", None), "line", None)
    where = f" line {line + 1}" if line is not None else ""
    return f"{name}:{where} not valid YAML ({exc.__class__.__name__})"
