"""Keeping a box: the local control socket, status, first boot, backup/restore and updates."""

from pigate.upkeep.control import ControlServer, request

__all__ = ["ControlServer", "request"]
