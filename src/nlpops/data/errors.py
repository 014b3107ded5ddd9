"""Errors raised by the data stage."""

from __future__ import annotations


class DataError(ValueError):
    """A dataset could not be read or is unusable; the message names the file (and line when known)."""


class MissingColumnError(DataError):
    """A column the reader needs is not in the file; the message lists the columns found."""


class LeakageError(ValueError):
    """The same normalised text appears in more than one split."""
