"""How reading a file fails: a reason to record against it, or a stop asked for."""

from __future__ import annotations


class ExtractError(Exception):
    """A file could not be read; str(exc) is the reason shown to the user."""


class ExtractCancelled(Exception):  # noqa: N818 (a stop, not an error: nothing to record)
    """Reading stopped because the run was cancelled (Ctrl+C, a newer change): the file is
    not at fault and is read again next time. Deliberately not an ExtractError."""
