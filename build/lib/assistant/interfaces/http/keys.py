"""API keys: when configured, every question needs `Authorization: Bearer KEY` (or `X-Api-Key: KEY`).

With staff login on and no keys configured, the API is closed (a 401 for every question): the chat then needs a
login, so the API must not answer anyone without one (set `OPENBAAR_API_KEYS` to use it)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from assistant.interfaces.http.errors import ApiError


class ApiKeys:
    """The configured keys (none: the API is open) and which client a request comes from."""

    def __init__(self, keys: list[str], required: bool = False) -> None:
        self.keys = [k for k in keys if k]
        self.required = required  # staff login is on: no keys configured means no access

    @classmethod
    def parse(cls, value: str, required: bool = False) -> ApiKeys:
        return cls([k.strip() for k in value.split(",")], required)

    @staticmethod
    def given(request: Request) -> str:
        """The key a request carries (`Authorization: Bearer KEY` or `X-Api-Key: KEY`), or ""."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.headers.get("x-api-key", "").strip()

    def check(self, request: Request) -> None:
        """Raise 401 unless the request carries one of the keys (when keys are configured or required)."""
        if not self.keys and not self.required:
            return
        given = self.given(request).encode()
        if not given or not any(hmac.compare_digest(given, k.encode()) for k in self.keys):
            raise ApiError(401, "unauthorized", "api.unauthorized", {"WWW-Authenticate": "Bearer"})

    def client_id(self, request: Request) -> str:
        """The rate-limit bucket of a request: its (checked) key, whichever header carried it, as a digest of the
        whole key; else its address."""
        given = self.given(request)
        if self.keys and given:
            return "key:" + hashlib.sha256(given.encode()).hexdigest()[:24]
        return "ip:" + (request.client.host if request.client else "?")
