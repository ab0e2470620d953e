"""The one exception type for mistakes a user can cause (bad path, column, value).

The CLI turns a :class:`UserError` into one line on stderr and exit status 2; any other
exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input, reported as one clear line."""
