"""API keys: when configured, every question needs `Authorization: Bearer KEY` (or `X-Api-Key: KEY`).

With staff login on, the API answers only a request that carries a key or a staff member's login (the chat's
session cookie): the chat then needs a login, so the API must not answer anyone without one."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from fastapi import Request

from assistant.interfaces.http.errors import ApiError


class ApiKeys:
    """The configured keys (none: the API is open) and which client a request comes from."""

    def __init__(
        self, keys: list[str], required: bool = False, login: Callable[[Request], bool] | None = None
    ) -> None:
        self.keys = [k for k in keys if k]
        self.required = required  # staff login is on: a key or a staff login is needed
        self.login = login  # whether a request carries a valid staff login (injected by the chat app)

    @classmethod
    def parse(
        cls, value: str, required: bool = False, login: Callable[[Request], bool] | None = None
    ) -> ApiKeys:
        return cls([k.strip() for k in value.split(",")], required, login)

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
        if given and any(hmac.compare_digest(given, k.encode()) for k in self.keys):
            return
        if self.required and self.login is not None and self.login(request):
            return
        raise ApiError(401, "unauthorized", "api.unauthorized", {"WWW-Authenticate": "Bearer"})

    def client_id(self, request: Request) -> str:
        """The rate-limit bucket of a request: its (checked) key, whichever header carried it, as a digest of the
        whole key; else its address."""
        given = self.given(request)
        if self.keys and given:
            return "key:" + hashlib.sha256(given.encode()).hexdigest()[:24]
        return "ip:" + (request.client.host if request.client else "?")
