"""`python -m agora_auth.cli COMMAND`: operations on the auth service's data.

Each command is a subparser whose `handler` is an async function of (args, settings, out)
returning the exit status: add one with `commands.add_parser(...)` and `set_defaults(handler=...)`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TextIO

import firebase_admin

from agora_auth.admin import AdminService
from agora_auth.firebase_users import FirebaseUsers
from agora_auth.keys.rotation import RotationAborted, RotationProgress, rotate_keys
from agora_auth.settings import AuthSettings
from agora_common.audit import Actor, AuditLog
from agora_common.clients import close_firestore_client, make_firestore_client
from agora_common.errors import AgoraError
from agora_common.firebase import firebase_app_for

Handler = Callable[[argparse.Namespace, AuthSettings, TextIO], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agora_auth.cli",
        description="Operations on the auth service's data (settings from AGORA_AUTH_*).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_admin(commands)
    _add_rotate_keys(commands)
    return parser


def _add_admin(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser("admin", help="grant or revoke the admin role")
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, help_text in (
        ("grant", "make a user an admin (audited as this operator)"),
        ("revoke", "take the admin role away (and revoke the user's refresh tokens)"),
    ):
        parser = actions.add_parser(action, help=help_text)
        parser.add_argument("email", help="the user's email")
        parser.set_defaults(handler=_set_admin)


async def _set_admin(args: argparse.Namespace, settings: AuthSettings, out: TextIO) -> int:
    grant = args.action == "grant"
    actor = Actor(kind="cli", name=_operator())
    firebase = firebase_app_for(settings, http_timeout_s=settings.firebase_timeout_s)
    db = make_firestore_client(settings)
    try:
        admins = AdminService(
            FirebaseUsers(firebase, timeout_s=settings.firebase_timeout_s),
            AuditLog(db, timeout_s=settings.dependency_timeout_s),
        )
        user = await admins.set_admin_by_email(actor, args.email, grant)
    except AgoraError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await close_firestore_client(db)
        firebase_admin.delete_app(firebase)
    state = "is now an admin" if grant else "is no longer an admin"
    print(f"{user.email or user.uid} {state} (from the next token refresh)", file=out)
    return 0


def _add_rotate_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate = commands.add_parser(
        "rotate-keys",
        help="re-wrap every stored API key's data key under the current key version",
        description=(
            "Re-wrap every stored data key under the primary key version. With Cloud KMS, make "
            "the new primary version in KMS first; locally a new version is added to the key "
            "file and made primary (old versions are kept). Safe to run again: keys already "
            "under the primary version are skipped."
        ),
    )
    rotate.add_argument(
        "--resume",
        action="store_true",
        help="local key file: re-wrap under the current primary without adding a version "
        "(to finish an interrupted run)",
    )
    rotate.add_argument("--page-size", type=int, default=100, help="documents read per page")
    rotate.set_defaults(handler=_rotate_keys)


async def _rotate_keys(args: argparse.Namespace, settings: AuthSettings, out: TextIO) -> int:
    def progress(state: RotationProgress) -> None:
        print(state.line(), file=out, flush=True)

    def new_version(version: str) -> None:
        print(f"added key version {version} to the local key file (now primary)", file=out)

    try:
        result = await rotate_keys(
            settings,
            new_local_version=not args.resume,
            page_size=args.page_size,
            on_progress=progress,
            on_new_version=new_version,
        )
    except RotationAborted as exc:
        print(f"stopped: {exc}; run again to resume", file=out)
        return 1
    print(f"done under {result.primary}: {result.line()}", file=out)
    if result.failed:
        print("some keys kept their old version (see the log); run again to retry", file=out)
        return 1
    return 0


def _operator() -> str:
    """The operator's login, for the audit trail."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "unknown"


def main(
    argv: Sequence[str] | None = None,
    settings: AuthSettings | None = None,
    out: TextIO = sys.stdout,
) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    handler: Handler = args.handler
    return asyncio.run(handler(args, settings or AuthSettings(), out))


if __name__ == "__main__":
    sys.exit(main())
