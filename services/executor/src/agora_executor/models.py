"""The executor's request and answer bodies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AgentId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: AgentId
    tool_name: Annotated[str, Field(min_length=1, max_length=64)]
    payload: dict[str, Any] = Field(default_factory=dict)


class ExecutionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the tool answered with an error of its own


class ToolFailure(BaseModel):
    code: str
    message: str


class Execution(BaseModel):
    execution_id: str
    agent_id: str
    tool_name: str
    status: ExecutionStatus
    result: Any = None
    error: ToolFailure | None = None
    duration_ms: float


class AgentHealth(BaseModel):
    agent_id: str
    healthy: bool
    # In words only: the remote status code is never relayed.
    status: Literal["healthy", "unhealthy"]
    latency_ms: float | None = None
    error: str | None = None
    checked_at: datetime
    cached: bool = False


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: AgentId


class DeploymentView(BaseModel):
    agent_id: str
    url: str
    runtime: str
    revision: str | None = None
    deployed_at: datetime
    status: str  # the agent's status afterwards
