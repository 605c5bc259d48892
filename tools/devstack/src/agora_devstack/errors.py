"""The errors of local process supervision; every message is one line."""

from __future__ import annotations

__all__ = ["PortInUseError", "StartError", "SupervisorError", "ToolMissingError"]


class SupervisorError(RuntimeError):
    """A child process could not be started or supervised; the message is one line."""


class StartError(SupervisorError):
    """A child exited or timed out before it was ready."""


class PortInUseError(SupervisorError):
    """A port a child needs is already taken."""


class ToolMissingError(SupervisorError):
    """An executable or package a child needs is not installed."""
