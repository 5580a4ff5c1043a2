"""HTTP API, served by the same process as the chat: the same pipeline and the same JSON as `openbaar ask --json`.

Mounted at `/api`: `POST /api/ask`, `POST /api/ask/stream` (server-sent events), `GET /api/health`,
`GET /api/openapi.json`. Errors are JSON `{"error": {"code", "message"}}` in the request's language.
Request reading and limits: limits.py, keys.py, schemas.py; routes: routes.py; errors: errors.py.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request

from assistant.factory import Assistant
from assistant.interfaces.http.errors import install_handlers
from assistant.interfaces.http.limits import RateLimiter
from assistant.interfaces.http.routes import Routes
from assistant.settings import Settings


def create_api(
    get_assistant: Callable[[], Assistant],
    settings: Settings,
    limiter: RateLimiter | None = None,
    login: Callable[[Request], bool] | None = None,
) -> FastAPI:
    """The API app; `get_assistant` returns the process's opened assistant (injected, opened once); `limiter`
    is shared with the chat, so both count against one budget per client; `login` tells whether a request carries
    a staff member's login (with staff login on, that or a key is needed)."""
    api = FastAPI(
        title="Openbaar API",
        version="1",
        description="Answers about government statements with verified quotes.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is enough
        redoc_url=None,
    )
    install_handlers(api)
    Routes(get_assistant, settings, limiter, login).register(api)
    return api
