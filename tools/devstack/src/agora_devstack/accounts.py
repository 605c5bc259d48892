"""Demo accounts for the local fleet, created in the Firebase Auth emulator."""

from __future__ import annotations

import os
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
    """Create (or reuse) the demo accounts and set the admin claim on the admin."""
    # firebase-admin finds the emulator only through this variable.
    os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = auth_emulator_host
    app = firebase_admin.initialize_app(options={"projectId": project_id}, name="agora-devstack")
    try:
        for account in DEMO_ACCOUNTS:
            try:
                user = auth.create_user(
                    email=account.email,
                    password=DEMO_PASSWORD,
                    display_name=account.display_name,
                    email_verified=True,
                    app=app,
                )
            except auth.EmailAlreadyExistsError:
                user = auth.get_user_by_email(account.email, app=app)
            auth.set_custom_user_claims(
                user.uid, {"admin": True} if account.admin else None, app=app
            )
    finally:
        firebase_admin.delete_app(app)
