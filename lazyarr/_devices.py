"""Devices. The CPU is always present; the GPU backend adds CUDA devices."""

from __future__ import annotations


class Device:
    """A device arrays live on; compares equal to its name, e.g. ``"cpu"``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Device):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Device({self.name!r})"


CPU = Device("cpu")


def check_device(device: object) -> Device:
    """The device a creation function was asked for; ``ValueError`` for unknown ones."""
    if device is None or device == CPU:
        return CPU
    from ._errors import located

    raise located(ValueError, f"unsupported device {device!r}; available devices: {CPU!r}")
