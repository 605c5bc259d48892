"""Build an Agora agent: declare tools on an `Agent`; it serves signed /execute, health, card."""

from agora_agent_sdk.agent import Agent
from agora_agent_sdk.config import AgentConfig
from agora_agent_sdk.context import Context
from agora_agent_sdk.errors import ToolError
from agora_agent_sdk.http import EgressRefused, ResponseTooLarge, guarded_client
from agora_agent_sdk.replay import ReplayGuard
from agora_agent_sdk.signing import (
    HEADER_AGENT_AUTH,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    TOLERANCE_SECONDS,
    SignatureError,
    compute_signature,
    sign_request,
    verify_request,
)
from agora_agent_sdk.tools import Tool

__all__ = [
    "HEADER_AGENT_AUTH",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "TOLERANCE_SECONDS",
    "Agent",
    "AgentConfig",
    "Context",
    "EgressRefused",
    "ReplayGuard",
    "ResponseTooLarge",
    "SignatureError",
    "Tool",
    "ToolError",
    "compute_signature",
    "guarded_client",
    "sign_request",
    "verify_request",
]
