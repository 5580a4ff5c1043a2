"""API keys: when configured, every question needs `Authorization: Bearer KEY` (or `X-Api-Key: KEY`)."""

from __future__ import annotations

import hmac

from fastapi import Request

from assistant.interfaces.http.errors import ApiError


class ApiKeys:
    """The configured keys (none: the API is open) and which client a request comes from."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = [k for k in keys if k]

    @classmethod
    def parse(cls, value: str) -> ApiKeys:
        return cls([k.strip() for k in value.split(",")])

    def check(self, request: Request) -> None:
        """Raise 401 unless the request carries one of the keys (when keys are configured)."""
        if not self.keys:
            return
        auth = request.headers.get("authorization", "")
        given = (
            auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
        )
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in self.keys):
            raise ApiError(401, "unauthorized", "api.unauthorized", {"WWW-Authenticate": "Bearer"})

    def client_id(self, request: Request) -> str:
        """The rate-limit bucket of a request: its key when keys are configured, else its address."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.keys:
            return "key:" + auth[7:][:8]
        return "ip:" + (request.client.host if request.client else "?")
