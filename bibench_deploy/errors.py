"""Expected errors. The CLI prints their message as one line and exits 1; anything else is a bug."""


class BibenchError(Exception):
    """Base class of every error a user can cause and fix."""


class UnknownNameError(BibenchError):
    """A registry look-up failed (algorithm, architecture, dataset, engine...)."""


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
