"""Expected errors. The CLI prints their message as one line (`error: ...`) and exits with
EXIT_USAGE (2) for a `UsageError`, EXIT_FAILURE (1) for every other `BibenchError`; anything else
is a bug."""

EXIT_OK = 0
EXIT_FAILURE = 1      # the inputs were valid, the work failed or found a problem
EXIT_USAGE = 2        # the command line is wrong: unknown option or name, bad or missing value
EXIT_FLAGGED = 3      # `run --strict`: every cell measured, some flagged (contended, unstable, ...)
EXIT_INTERRUPTED = 130


class BibenchError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = EXIT_FAILURE


class UsageError(BibenchError):
    """A command-line value is wrong: out of range, unknown, inconsistent with another option,
    or a path that does not exist."""

    exit_code = EXIT_USAGE


class UnknownNameError(UsageError):
    """A registry look-up failed (algorithm, architecture, dataset, target...)."""


class DatasetError(BibenchError):
    """A dataset is missing or malformed."""


class OutputExistsError(BibenchError):
    """An output directory already exists and --force was not given."""


class ConversionError(BibenchError):
    """A conversion failed or its result does not match the source model."""


class ManifestError(BibenchError):
    """A manifest is missing, malformed or from an incompatible version."""


class FleetError(BibenchError):
    """A fleet file is invalid or a device cannot be used."""


class ReportError(BibenchError):
    """A report cannot be built from the given run."""
