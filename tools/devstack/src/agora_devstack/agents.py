"""The platform's own agents as an owner registers them: cards built from the SDK's tools."""

from __future__ import annotations

from typing import Any

from agora_agent_sdk import Agent

# Folder under agents/ -> the module that declares the agent.
LOCAL_AGENTS = {"genesis": "agora_genesis.agent", "quantflow": "agora_quantflow.agent"}


def registration_card(agent: Agent, folder: str) -> dict[str, Any]:
    """The card to register: the tools as the agent declares them, its image for Cloud Run, and
    its source folder, which the local runtime (and vetting's static checks) read."""
    card = agent.card("https://agents.invalid")  # the URL is replaced by the deployment below
    card["deployment"] = {"image": f"agora-agents/{folder}:{agent.version}"}
    card["metadata"] = {**(card.get("metadata") or {}), "source": f"agents/{folder}"}
    return card


def local_agent(folder: str) -> Agent:
    module = __import__(LOCAL_AGENTS[folder], fromlist=["agent"])
    agent: Agent = module.agent
    return agent
