"""The errors nlpops raises for something the user can fix: a bad config, file, option or model URI.

They share :class:`NlpopsError`, so the CLI prints their message on one line and shows the
traceback of anything else (a bug). Each also subclasses the built-in it replaces, as
scikit-learn's ``NotFittedError`` subclasses ``ValueError``: ``except ValueError`` keeps working.
This module imports nothing from nlpops, so every layer can raise these.
"""

from __future__ import annotations


class NlpopsError(Exception):
    """A failure the user can fix; the message says what is wrong and where (file, key, option)."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()  # KeyError would quote it


class ConfigError(NlpopsError, ValueError):
    """A config file that cannot be used; the message names the file and the key."""


class UsageError(NlpopsError, ValueError):
    """Options or arguments that do not go together, or a value a command cannot use."""


class ParameterError(NlpopsError, ValueError, TypeError):
    """A parameter name or value a component does not accept (an unknown model kind, step or recipe,
    a parameter the estimator lacks, a choice out of its list). ``TypeError`` too: Python raises
    that for an unknown keyword argument."""


class UnknownNameError(ParameterError, KeyError):
    """A name looked up in a registry (a model kind) that it does not hold; the message lists the known."""


class DataError(NlpopsError, ValueError):
    """A dataset could not be read or is unusable; the message names the file (and line when known)."""


class MissingColumnError(DataError):
    """A column the reader needs is not in the file; the message lists the columns found."""


class LeakageError(DataError):
    """The same normalised text appears in more than one split."""


class CheckpointError(NlpopsError, ValueError):
    """A checkpoint that cannot be loaded here; the message says what to pass instead."""


class ModelNotFoundError(NlpopsError, FileNotFoundError):
    """A model URI that names nothing; the message says what is missing and what is registered."""


class ModelLoadError(NlpopsError, RuntimeError):
    """Loading a model failed; the message says which URI and why."""


class ModelFileError(NlpopsError, TypeError):
    """A folder or file that holds something other than the model asked for."""


class TrackingError(NlpopsError, ValueError):
    """The tracking store lacks what a command needs (an experiment, a finished run, a run URI's parts)."""


class ExportError(NlpopsError, ValueError):
    """A model that cannot be exported, or whose export does not reproduce it."""
