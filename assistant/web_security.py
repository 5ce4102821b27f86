"""What stands between the web app and a hostile browser, page or colleague (``docs/security.md``).

- **Login throttling** (:class:`LoginThrottle`): failed logins per user name and per client address earn
  a growing delay and, past a limit, a lock-out for a while; bcrypt runs in a worker thread so a flood of
  logins never stalls other users' requests.
- **Host and Origin checks** (:class:`HostOriginGuard`): in single-user mode (no accounts, loopback only)
  only loopback host names are served and cross-origin requests are refused, which is what DNS rebinding
  from a web page the official visits needs to succeed. With accounts, an ``Origin`` from another site is
  refused for every state-changing request.
- **Private files** (:class:`PrivateFiles`): drafts (DOCX) are registered to the user they were made for;
  Gradio's file route serves them to that user only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback_host(host: str) -> bool:
    """'localhost', '127.0.0.1:7860', '[::1]:7860' -> True; any other name or address -> False."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        name = host[: host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


# --- login throttling ----------------------------------------------------------------------------------------


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class LoginThrottle:
    """Failed logins per key (a user name, a client address): after ``free`` failures each further attempt
    waits ``base * 2**(n - free)`` seconds (at most ``max_delay``); after ``lock_after`` failures the key is
    locked for ``lock_seconds``, whatever password comes. A success clears the user name's count."""

    free: int = 3
    base: float = 0.5
    max_delay: float = 8.0
    lock_after: int = 10
    lock_seconds: float = 900.0
    forget_after: float = 3600.0
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _get(self, key: str, now: float) -> _Failures:
        f = self._failures.get(key)
        if f is None or now - f.last > self.forget_after:
            f = self._failures[key] = _Failures()
        return f

    def delay(self, keys: list[str], now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            n = max((self._get(k, now).count for k in keys), default=0)
        return 0.0 if n < self.free else min(self.max_delay, self.base * 2 ** (n - self.free))

    def locked(self, keys: list[str], now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return any(
                (f := self._get(k, now)).count >= self.lock_after and now - f.last < self.lock_seconds
                for k in keys
            )

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for k in keys:
                f = self._get(k, now)
                f.count += 1
                f.last = now

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# The client address of the login being checked: Gradio calls the auth function without the request, so the
# guard (which sees the request) hands the address over through this task-local variable.
_client: Any = None


def _client_var() -> Any:
    global _client
    if _client is None:
        import contextvars

        _client = contextvars.ContextVar("briefing_login_client", default="")
    return _client


def make_async_auth(
    check: Callable[[str, str], bool], throttle: LoginThrottle
) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's ``auth=`` as a coroutine: throttled per user name and client address, bcrypt off the event
    loop."""

    async def _auth(name: str, password: str) -> bool:
        keys = [f"user:{name.strip().lower()}"]
        client = _client_var().get()
        if client:
            keys.append(f"addr:{client}")
        if throttle.locked(keys):
            await asyncio.sleep(throttle.max_delay)
            return False
        wait = throttle.delay(keys)
        if wait:
            await asyncio.sleep(wait)
        ok = await asyncio.to_thread(check, name, password)
        if ok:
            throttle.succeeded(keys[0])
        else:
            throttle.failed(keys)
        return ok

    return _auth


# --- private files -------------------------------------------------------------------------------------------


class PrivateFiles:
    """File names (as Gradio serves them) -> the user they belong to."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, path: Path | str, user: str | None) -> None:
        with self._lock:
            self._owner[Path(path).name] = user or ""

    def owner(self, name: str) -> str | None:
        with self._lock:
            return self._owner.get(name)


# --- the ASGI guard ------------------------------------------------------------------------------------------


class HostOriginGuard:
    """ASGI middleware: Host/Origin checks, the client address for the login throttle, private files."""

    def __init__(self, app: ASGIApp, *, single_user: bool, private: PrivateFiles | None = None) -> None:
        self.app = app
        self.single_user = single_user
        self.private = private

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        origin = headers.get("origin")
        method = scope.get("method", "GET")
        if self.single_user and not is_loopback_host(host):
            await _refuse(scope, send, 421 if scope["type"] == "http" else 1008, "host not allowed")
            return
        if origin and origin != "null":
            origin_host = urlsplit(origin).netloc
            same = origin_host.lower() == host.lower()
            if self.single_user and not is_loopback_host(origin_host):
                await _refuse(scope, send, 403, "cross-origin request refused")
                return
            if not same and (method not in ("GET", "HEAD", "OPTIONS") or scope["type"] == "websocket"):
                await _refuse(scope, send, 403, "cross-origin request refused")
                return
        path = unquote(scope.get("path", ""))
        if self.private is not None and "/file=" in path:
            owner = self.private.owner(Path(path.split("/file=", 1)[1]).name)
            if owner is not None and owner != (_user_of(scope, headers) or ""):
                await _refuse(scope, send, 404, "not found")
                return
        if b"all_endpoints" in scope.get("query_string", b"") and not _user_of(scope, headers):
            # "?all_endpoints=1" makes Gradio describe undocumented endpoints too: not before login.
            scope = {**scope, "query_string": b""}
        client = (scope.get("client") or ("", 0))[0]
        token = _client_var().set(client)
        try:
            await self.app(scope, receive, send)
        finally:
            _client_var().reset(token)


def _user_of(scope: Scope, headers: dict[str, str]) -> str | None:
    """The logged-in user of a request, as Gradio knows it (its access-token cookie)."""
    app = scope.get("app")
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not tokens or not cookie_id:
        return None
    cookies: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            cookies[k] = v
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return tokens.get(token) if token else None


async def _refuse(scope: Scope, send: Send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = reason.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
