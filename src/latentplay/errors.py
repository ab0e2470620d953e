"""The one exception type for mistakes a user can cause (bad path, column, value).

The CLI turns a :class:`UserError` into one line on stderr and exit status 2, as it does an
operating-system error about a path the user named (a read-only or missing --out), a write
that a full disk or a file-size limit stopped, and a file read to its end too soon; any other
exception is a bug and keeps its traceback.
:func:`first_line` shortens another library's exception to that one line.
"""


class UserError(Exception):
    """A problem with the user's input, reported as one clear line."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, surrounding blank space left out, for a one-line
    :class:`UserError` about it; the exception's type name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
