"""Demo accounts for the local fleet, created in the Firebase Auth emulator."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import firebase_admin
from firebase_admin import auth

DEMO_PASSWORD = "agora-demo"  # noqa: S105 - emulator-only demo accounts


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: str
    admin: bool


DEMO_ACCOUNTS = (
    DemoAccount("admin@agora.local", "Demo Admin", "admin (claim admin: true)", admin=True),
    DemoAccount("user@agora.local", "Demo User", "user", admin=False),
)


def create_demo_accounts(auth_emulator_host: str, project_id: str) -> None:
    """Create (or reuse) the demo accounts; the admin role is granted by `grant_demo_admins`."""
    # firebase-admin finds the emulator only through this variable.
    os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = auth_emulator_host
    app = firebase_admin.initialize_app(options={"projectId": project_id}, name="agora-devstack")
    try:
        for account in DEMO_ACCOUNTS:
            with contextlib.suppress(auth.EmailAlreadyExistsError):
                auth.create_user(
                    email=account.email,
                    password=DEMO_PASSWORD,
                    display_name=account.display_name,
                    email_verified=True,
                    app=app,
                )
    finally:
        firebase_admin.delete_app(app)


def grant_demo_admins(auth_env: Mapping[str, str]) -> None:
    """Make the demo admin an admin the way an operator would: with the auth service's CLI."""
    for account in DEMO_ACCOUNTS:
        if not account.admin:
            continue
        command = [sys.executable, "-m", "agora_auth.cli", "admin", "grant", account.email]
        done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            command, env={**os.environ, **auth_env}, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"granting admin to {account.email} failed: {done.stderr.strip()}")
