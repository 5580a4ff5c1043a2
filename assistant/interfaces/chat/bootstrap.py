"""The chat server's start-up work, in one explicit function called once when Chainlit loads the app.

`openbaar serve` has already checked the store, the logins, the origins and the history database before it
started Chainlit (in one line each); here the same settings are opened for real.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from assistant.factory import Assistant, open_assistant
from assistant.interfaces.chat import chainlit_compat as compat
from assistant.interfaces.chat.history import database_url, ensure_schema
from assistant.interfaces.chat.staff import parse_staff_users
from assistant.interfaces.http import create_api
from assistant.interfaces.http.limits import RateLimiter
from assistant.interfaces.http.origin import OriginGuard
from assistant.interfaces.streaming import answer_executor
from assistant.settings import Settings

log = logging.getLogger("openbaar.app")


@dataclass
class ChatApp:
    """What the chat handlers use: settings, the opened assistant and the staff logins (empty: open chat)."""

    settings: Settings
    assistant: Assistant
    staff: dict[str, str]
    history_url: str
    limiter: RateLimiter  # one budget per client for the chat and the API together


def bootstrap(settings: Settings) -> ChatApp:
    """Open the assistant, patch and extend Chainlit's server (page, API, origin guard, CORS), create the history
    tables and warm the retriever, so the first visitor does not wait for the index to load."""
    compat.check_version()
    assistant = open_assistant(settings)
    answer_executor(settings.answer_threads)
    host, port = compat.run_address()
    origins = compat.set_allowed_origins(settings.allowed_origin_list(host, port))
    compat.install_page()
    limiter = RateLimiter(settings.api_rate_limit)
    compat.mount(create_api(lambda: assistant, settings, limiter), OriginGuard, allowed_origins=origins)
    url = database_url(settings)
    asyncio.run(ensure_schema(url))
    try:
        assistant.retriever.search("warm-up", k=1)
    except Exception:
        log.warning("warm-up search failed", exc_info=True)
    return ChatApp(settings, assistant, parse_staff_users(settings.staff_users), url, limiter)
