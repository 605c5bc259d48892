"""`make dev`'s demo agents: the demo user registers Genesis and QuantFlow, they are vetted and
deployed by the local runtime, so a newcomer can execute a tool at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agora_common.iam.tokens import DevSigner
from agora_common.settings import Environment, service_account_email
from agora_devstack.accounts import DEMO_PASSWORD
from agora_devstack.agents import LOCAL_AGENTS, local_agent, registration_card

DEMO_OWNER = "user@agora.local"


@dataclass(frozen=True)
class SeededAgent:
    folder: str
    agent_id: str
    url: str


def sign_in(auth_emulator_host: str, email: str) -> str:
    """An ID token from the Auth emulator, as the SPA's sign-in would get one."""
    response = httpx.post(
        f"http://{auth_emulator_host}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithPassword?key=demo",
        json={"email": email, "password": DEMO_PASSWORD, "returnSecureToken": True},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["idToken"])


class Seeder:
    """Registers through the gateway as the demo user; vets and deploys as the vetting service."""

    def __init__(
        self, *, gateway: str, registry: str, executor: str, key_file: Path, project_id: str
    ) -> None:
        self.gateway = gateway
        self.registry = registry
        self.executor = executor
        self.vetting = DevSigner(
            key_file.read_bytes(),
            email=service_account_email("vetting", project_id),
            environment=Environment.LOCAL,
        )

    def _as_vetting(self, base: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.vetting.sign(base)}"}

    def seed(self, owner_token: str) -> list[SeededAgent]:
        with httpx.Client(timeout=60) as http:
            return [self._seed_one(http, owner_token, folder) for folder in LOCAL_AGENTS]

    def _seed_one(self, http: httpx.Client, token: str, folder: str) -> SeededAgent:
        owner = {"authorization": f"Bearer {token}"}
        card = registration_card(local_agent(folder), folder)
        agent = self._existing(http, owner, card["name"])
        if agent is None:
            response = http.post(f"{self.gateway}/api/v1/agents/register", json=card, headers=owner)
            response.raise_for_status()
            agent = response.json()
        if agent["status"] == "pending-vetting":
            response = http.post(
                f"{self.registry}/internal/agents/{agent['id']}/status",
                json={"status": "vetted", "reason": "demo agent, vetted by make dev"},
                headers=self._as_vetting(self.registry),
            )
            response.raise_for_status()
        deployed = http.post(
            f"{self.executor}/deploy",
            json={"agent_id": agent["id"]},
            headers=self._as_vetting(self.executor),
        )
        if deployed.status_code != 200:
            raise RuntimeError(f"deploying {folder} failed: {deployed.text}")
        return SeededAgent(folder, agent["id"], deployed.json()["url"])

    def _existing(
        self, http: httpx.Client, owner: dict[str, str], name: str
    ) -> dict[str, Any] | None:
        """The demo user's agent of that name, if the emulators kept one from an earlier run."""
        response = http.get(
            f"{self.gateway}/api/v1/registry/search",
            params={"owner": "me", "q": name, "limit": 100},
            headers=owner,
        )
        response.raise_for_status()
        for item in response.json()["items"]:
            if item["name"] == name:
                return dict(item)
        return None
