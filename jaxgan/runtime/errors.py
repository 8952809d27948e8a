"""The one exception type that reaches users as a clear message."""


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2, nothing touched.

    Raise it with a message that names the problem and says what to do.
    """
