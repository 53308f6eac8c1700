"""Transports: how the host reaches a device. One interface, chosen per device in the fleet file."""

from __future__ import annotations

from bibench_deploy.registry import Registry

TRANSPORTS: Registry = Registry("transport")


def _ssh(device, trust_new_hosts=False):
    from bibench_deploy.fleet.transports.ssh import SshTransport
    return SshTransport(device, trust_new_hosts)


def _local(device, trust_new_hosts=False):
    from bibench_deploy.fleet.transports.local import LocalTransport
    return LocalTransport(device)


def _adb(device, trust_new_hosts=False):
    from bibench_deploy.fleet.transports.adb import AdbTransport
    return AdbTransport(device)


TRANSPORTS.register("ssh", _ssh)
TRANSPORTS.register("local", _local)
TRANSPORTS.register("adb", _adb)


def open_transport(device, trust_new_hosts: bool = False):
    return TRANSPORTS.get(device.transport)(device, trust_new_hosts)
