"""What can go wrong when running aarch64 programs under qemu-user."""

from bibench_deploy.errors import BibenchError

INSTALL_HINT = "apt-get install qemu-user gcc"


class EmulationError(BibenchError):
    """An emulated run failed or gave no usable instruction count."""


class ToolMissingError(EmulationError):
    """qemu-aarch64 or the host's C compiler is not installed."""


class PluginBuildError(EmulationError):
    """The instruction-counting plugin did not compile, or its cache cannot be trusted."""


class GuestTimeoutError(EmulationError):
    """The emulated program ran past its time limit."""


class UnstableCountError(EmulationError):
    """Repeated runs of the same command counted different instructions per inference."""
