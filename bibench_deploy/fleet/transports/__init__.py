"""Transports: how the host reaches a device. One interface (`Transport`, transports/base.py),
chosen per device in the fleet file.

`TRANSPORTS` is the one list of transport names (the fleet file's `transport:` is checked against
it); each name maps to the module that defines its `TRANSPORT` class, imported only when a device
uses it (paramiko is slow to import). Adding a transport = its module + one line below.
"""

from __future__ import annotations

from importlib import import_module

from bibench_deploy.registry import Registry

TRANSPORTS: Registry[str] = Registry("transport")
TRANSPORTS.register("ssh", f"{__name__}.ssh")
TRANSPORTS.register("local", f"{__name__}.local")
TRANSPORTS.register("adb", f"{__name__}.adb")
TRANSPORTS.register("emulated", f"{__name__}.emulated")


def open_transport(device, trust_new_hosts: bool = False):
    """The device's transport, not yet connected."""
    module = import_module(TRANSPORTS.get(device.transport))
    return module.TRANSPORT.for_device(device, trust_new_hosts)
