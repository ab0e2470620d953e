"""The one exception type for mistakes a user can cause (bad path, column, value).

The CLI turns a :class:`UserError` into one line on stderr and exit status 2, as it does an
operating-system error about a path the user named (a read-only or missing --out) and a file
read to its end too soon; any other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input, reported as one clear line."""
