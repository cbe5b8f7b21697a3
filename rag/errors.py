"""Errors: every failure the library reports on purpose derives from `RagError`.

Its message is meant for the user: it names the file, URL, setting or field and the
problem, and says what to run to fix it where there is a fix.
"""


class RagError(Exception):
    """A failure the user can act on; the message says what happened and what to do."""
