"""An ASGI middleware in front of the app: an Origin check for the chat's websocket, and security headers.

Chainlit applies `allow_origins` to HTTP CORS only; its socket.io endpoint accepts a handshake from any Origin.
`OriginGuard` refuses websocket and socket.io requests whose Origin is neither the app itself nor allow-listed,
and adds `Content-Security-Policy: frame-ancestors` so only allow-listed sites can frame the UI.
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


class OriginGuard:
    """Refuse cross-site websocket/socket.io traffic; add security headers to HTTP responses."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed = [o for o in allowed_origins if o != "*"]
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
        allowed = origin_allowed(_header(scope, b"origin"), _header(scope, b"host"), self.allowed)
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
