"""Users, passwords and what each role may see.

Users come from configuration (``Settings.users``) with bcrypt hashes; plain passwords are never stored.
Access is enforced by passing :func:`access_for` to the store query (``access=[...]``), so the decision of
what a role may read is made here once and nowhere in the UI.

``python -m assistant.auth hash`` prints a bcrypt hash for a password read from stdin, so an administrator
can fill in ``briefing.toml`` without the ``briefing`` CLI or the embedding model.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable

import bcrypt

from corpus.settings import Settings, User

OPENBAAR = "openbaar"
INTERN = "intern"

# What each role may read. Every access level a document can carry must appear under "intern".
ROLE_ACCESS: dict[str, list[str]] = {OPENBAAR: [OPENBAAR], INTERN: [OPENBAAR, INTERN]}

# bcrypt only looks at the first 72 bytes; bcrypt>=5 refuses longer input instead of silently truncating.
MAX_PASSWORD_BYTES = 72

# Checked against for unknown user names so a failed login takes as long whether or not the name exists.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=12))


class PasswordError(ValueError):
    pass


def hash_password(password: str, rounds: int = 12) -> str:
    raw = password.encode("utf-8")
    if not raw:
        raise PasswordError("empty password")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise PasswordError(f"password longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    raw = password.encode("utf-8")
    if not raw or len(raw) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:  # malformed hash in the configuration: a failed login, not a crash
        return False


def find_user(settings: Settings, name: str | None) -> User | None:
    if not name:
        return None
    return next((u for u in settings.users if u.name == name), None)


def users_configured(settings: Settings) -> bool:
    return bool(settings.users)


def authenticate(settings: Settings, name: str, password: str) -> bool:
    user = find_user(settings, name)
    if user is None:
        verify_password(password, _DUMMY_HASH.decode("ascii"))
        return False
    return verify_password(password, user.password_hash)


def make_auth(settings: Settings) -> Callable[[str, str], Awaitable[bool]] | None:
    """The callable for Gradio's ``launch(auth=...)``; None when no users are configured (single-user mode).

    A coroutine, so that Gradio awaits it: failed logins are throttled per user name and client address
    (``web_security.LoginThrottle``) and bcrypt runs in a worker thread, off the event loop."""
    if not users_configured(settings):
        return None
    from assistant.web_security import LoginThrottle, make_async_auth

    def _check(name: str, password: str) -> bool:
        return authenticate(settings, name, password)

    return make_async_auth(_check, LoginThrottle())


def access_for(settings: Settings, name: str | None) -> list[str]:
    """The access levels a request may read.

    Without configured users the app is single-user on localhost and sees everything. With users, an
    unknown or missing name sees nothing (an empty list never matches a document), never everything.
    """
    if not users_configured(settings):
        return list(ROLE_ACCESS[INTERN])
    user = find_user(settings, name)
    if user is None:
        return []
    return list(ROLE_ACCESS.get(user.role, []))


def can_upload(settings: Settings, name: str | None) -> bool:
    """Uploads are for internal users only: a public user could otherwise publish anything as ``openbaar``,
    or have an upload land where only internal users can read it back."""
    if not users_configured(settings):
        return True
    user = find_user(settings, name)
    return user is not None and user.role == INTERN


def can_delete(settings: Settings, name: str | None) -> bool:
    if not users_configured(settings):
        return True
    user = find_user(settings, name)
    return user is not None and user.can_delete


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Wachtwoord: ")
        if first != getpass.getpass("Herhaal: "):
            raise PasswordError("passwords differ")
        return first
    # Piped input: the first line, without its newline (a trailing space is part of the password).
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["hash"]:
        print("usage: python -m assistant.auth hash  (reads the password from stdin)", file=sys.stderr)
        return 2
    try:
        print(hash_password(_read_password()))
    except PasswordError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
