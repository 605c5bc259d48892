"""Real users in the Firebase Auth emulator: sign-up, sign-in, claims, revocation."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import firebase_admin
import httpx
import jwt
from firebase_admin import auth

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class EmulatorUser:
    uid: str
    email: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class AuthEmulator:
    """Drives the Auth emulator the way a client SDK and an admin would."""

    def __init__(self, host: str, project_id: str) -> None:
        self.base = f"http://{host}/identitytoolkit.googleapis.com/v1"
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = host
        self.app = firebase_admin.initialize_app(
            options={"projectId": project_id}, name=f"tests-{uuid.uuid4().hex}"
        )

    def _post(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.base}/accounts:{action}?key=fake-api-key", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def sign_up(self, *, admin: bool = False, name: str = "user") -> EmulatorUser:
        email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
        result = self._post("signUp", {"email": email, "password": PASSWORD})
        user = EmulatorUser(result["localId"], email, result["idToken"])
        if admin:
            auth.set_custom_user_claims(user.uid, {"admin": True}, app=self.app)
            user = self.sign_in(user.email)  # claims appear in tokens minted after the change
        return user

    def sign_in(self, email: str) -> EmulatorUser:
        body = {"email": email, "password": PASSWORD, "returnSecureToken": True}
        result = self._post("signInWithPassword", body)
        return EmulatorUser(result["localId"], email, result["idToken"])

    def sign_in_with_custom_token(self, custom_token: str) -> EmulatorUser:
        """What an agent does with the custom token the auth service gave its owner."""
        body = {"token": custom_token, "returnSecureToken": True}
        result = self._post("signInWithCustomToken", body)
        claims = jwt.decode(result["idToken"], options={"verify_signature": False})
        return EmulatorUser(claims["sub"], claims.get("email", ""), result["idToken"])

    def revoke(self, uid: str) -> None:
        auth.revoke_refresh_tokens(uid, app=self.app)

    def disable(self, uid: str) -> None:
        auth.update_user(uid, disabled=True, app=self.app)
