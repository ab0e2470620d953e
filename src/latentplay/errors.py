"""The one exception type for mistakes a user can cause (bad path, column, value).

The CLI turns a :class:`UserError` into one line on stderr and exit status 2, as it does an
operating-system error about a path the user named (a read-only or missing --out), a write
that a full disk or a file-size limit stopped, and a file read to its end too soon; any other
exception is a bug and keeps its traceback.
:func:`first_line` shortens another library's exception to that one line.
"""

import errno

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A full disk or quota, or a file past the largest the system allows (``ulimit -f``, a FAT
volume): never a bug, whichever file it struck."""


class UserError(Exception):
    """A problem with the user's input, reported as one clear line."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, surrounding blank space left out, for a one-line
    :class:`UserError` about it; the exception's type name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def full_disk(exc: BaseException) -> OSError | None:
    """The error in ``exc``'s chain (``exc``, its cause or context, theirs, ...) that says a
    full disk, quota or file-size limit (:data:`FULL_ERRNOS`) stopped a write (libraries raise
    their own after it: torch's "unexpected pos"); None when there is none."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, OSError) and link.errno in FULL_ERRNOS:
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return None


def full_disk_line(full: OSError) -> str:
    """One line for the write that ``full`` (:func:`full_disk`) stopped, naming its file where
    the error does (an error while writing names none)."""
    where = f" {full.filename}" if isinstance(full.filename, str) else " the outputs"
    why = (" (a file-size limit, ulimit -f, or the file system's largest file was reached)"
           if full.errno == errno.EFBIG else "")
    return f"cannot write{where}: {full.strerror}{why}"
