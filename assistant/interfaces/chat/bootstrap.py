"""The chat server's start-up work, in one explicit function called once when Chainlit loads the app.

`openbaar serve` has already checked the store, the logins, the origins and the history database before it
started Chainlit (in one line each); here the same settings are opened for real.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from dataclasses import dataclass

from assistant.factory import Assistant, open_assistant
from assistant.interfaces.chat import chainlit_compat as compat
from assistant.interfaces.chat.history import database_url, delete_old_anonymous_threads, ensure_schema
from assistant.interfaces.chat.staff import parse_staff_users
from assistant.interfaces.chat.texts import widget_texts
from assistant.interfaces.http import create_api
from assistant.interfaces.http.limits import RateLimiter
from assistant.interfaces.http.origin import OriginGuard
from assistant.interfaces.http.shared_limits import shared_counter
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


RETENTION_INTERVAL = 3600.0  # seconds between two sweeps of old anonymous chats
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while others wait (Python's default: 0.005)


def start_retention(url: str, days: int) -> None:
    """Delete anonymous chats older than `days` now, then every RETENTION_INTERVAL seconds (a daemon thread)."""

    def sweep() -> None:
        try:
            deleted = asyncio.run(delete_old_anonymous_threads(url, days))
            if deleted:
                log.info("retention: deleted %d anonymous conversations older than %d days", deleted, days)
        except Exception:
            log.warning("retention sweep failed", exc_info=True)

    sweep()

    def loop() -> None:
        while True:
            time.sleep(RETENTION_INTERVAL)
            sweep()

    threading.Thread(target=loop, name="openbaar-retention", daemon=True).start()


def bootstrap(settings: Settings) -> ChatApp:
    """Open the assistant, patch and extend Chainlit's server (page, API, origin guard, CORS), create the history
    tables and warm the retriever, so the first visitor does not wait for the index to load."""
    compat.check_version()
    # Many answer threads run Python at once; the event loop (health checks, streaming) must get the GIL back soon.
    sys.setswitchinterval(SWITCH_INTERVAL)
    assistant = open_assistant(settings, watch=True)  # picks up new ingestions while it runs
    answer_executor(settings.answer_threads)
    host, port = compat.run_address()
    origins = compat.set_allowed_origins(settings.allowed_origin_list(host, port))
    compat.install_page()
    compat.install_widget(widget_texts())
    limiter = RateLimiter(
        settings.api_rate_limit, counter=shared_counter(settings)
    )  # the chat's and the API's
    hosts = settings.allowed_host_list(host, port)
    if hosts is None:
        log.warning("listening on every interface without OPENBAAR_PUBLIC_HOSTS: any Host header is accepted")
    staff = parse_staff_users(settings.staff_users)
    compat.mount(
        create_api(
            lambda: assistant, settings, limiter, lambda request: compat.staff_login(request) in staff
        ),
        OriginGuard,
        allowed_origins=origins,
        allowed_hosts=hosts,
    )
    compat.guard_writes()
    url = database_url(settings)
    asyncio.run(ensure_schema(url))
    if settings.chat_retention_days > 0:
        start_retention(url, settings.chat_retention_days)
    assistant.warm()
    return ChatApp(settings, assistant, staff, url, limiter)
