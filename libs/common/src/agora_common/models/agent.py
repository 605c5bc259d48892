"""Agent models shared by the registry, executor and vetting services."""

from __future__ import annotations

from enum import StrEnum


class AgentStatus(StrEnum):
    PENDING_VETTING = "pending-vetting"
    VETTED = "vetted"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
