"""An ASGI middleware in front of the app: Host and Origin checks, and security headers.

- Host: a request naming a host the app is not reached by (`OPENBAAR_PUBLIC_HOSTS`, the allowed origins' hosts, the
  address it listens on) is refused with 403, websocket handshakes included. A DNS-rebinding page, whose own name
  now points at this server, sends a matching `Origin` but its own name as `Host` (the health check is exempt: a
  liveness probe may name the server by any address).
- Origin: Chainlit applies `allow_origins` to HTTP CORS only; its socket.io endpoint accepts a handshake from any
  Origin. `OriginGuard` refuses websocket and socket.io requests whose Origin is neither the app itself nor
  allow-listed.
- A path holding a NUL or another control character is a 400 (Chainlit's file routes answered 500).
- `Content-Security-Policy: frame-ancestors` so only allow-listed sites can frame the UI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SOCKET_PATH = "/ws/"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str]) -> bool:
    """No Origin (not a browser), the app's own origin, or an allow-listed one."""
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    if host and origin in (f"http://{host}".lower(), f"https://{host}".lower()):
        return True
    return origin in {a.rstrip("/").lower() for a in allowed}


def host_allowed(host: str | None, allowed_hosts: set[str] | None) -> bool:
    """A `Host` header naming one of `allowed_hosts` (any port); None allows any host."""
    if allowed_hosts is None:
        return True
    if not host:
        return False
    host = host.strip().lower()
    name = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    return name in allowed_hosts


HEALTH_PATHS = ("/api/health",)


class OriginGuard:
    """Refuse requests for foreign hosts and cross-site websocket/socket.io traffic; add security headers."""

    def __init__(
        self, app: ASGIApp, allowed_origins: Iterable[str], allowed_hosts: Iterable[str] | None = None
    ) -> None:
        self.app = app
        self.allowed = [o for o in allowed_origins if o != "*"]
        self.hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        ancestors = " ".join(["'self'", *self.allowed])
        self.headers = [
            (b"content-security-policy", f"frame-ancestors {ancestors}".encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if any(ord(c) < 32 or ord(c) == 127 for c in path):
            return await self._refuse(scope, receive, send, 400, "bad_path", "invalid path")
        host = _header(scope, b"host")
        if path not in HEALTH_PATHS and not host_allowed(host, self.hosts):
            return await self._refuse(scope, receive, send, 403, "host_refused", "host not allowed")
        allowed = origin_allowed(_header(scope, b"origin"), host, self.allowed)
        if kind == "websocket":
            if not allowed:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
                return None
            return await self.app(scope, receive, send)
        if not allowed and scope.get("path", "").startswith(SOCKET_PATH):
            body = json.dumps({"error": {"code": "origin_refused", "message": "origin not allowed"}}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json"), *self.headers],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in self.headers if h[0] not in present),
                ]
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str, text: str
    ) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
            return
        body = json.dumps({"error": {"code": code, "message": text}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *self.headers],
            }
        )
        await send({"type": "http.response.body", "body": body})
