"""The rate limit shared by every app replica: hits counted in the shared database (`OPENBAAR_DB_URL`).

A `HitCounter` for `limits.RateLimiter`. Each client's hits are rows of `api_hits`; one transaction per request
takes an advisory lock on the client (so two replicas cannot both let the sixth request of five through), drops
the client's hits older than the window, counts the rest and adds this one when under the limit. Times are the
database's clock, so the replicas' clocks do not matter. When the database cannot be reached the request is let
through (logged): the answers need the same database, so they fail on their own, with a clear message.
"""

from __future__ import annotations

import logging
import threading
import time

from assistant.settings import Settings
from vectorstore.postgres import Database, lock_key

log = logging.getLogger("openbaar.api")

TABLE = """
CREATE TABLE IF NOT EXISTS api_hits (client TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS api_hits_client ON api_hits(client, at);
"""
_SWEEP_SECONDS = 60.0  # how often one process removes every client's expired hits


class PostgresCounter:
    """Hits per client in the table `api_hits` of the shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.write() as w:
            w.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("schema", "api_hits"),))
            w.conn.execute(TABLE)
        self._swept = time.monotonic()
        self._guard = threading.Lock()
        self._warned = 0.0

    def hit(self, client: str, limit: int, window: float) -> int:
        try:
            with self.db.write() as w:
                w.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("rate", client),))
                w.execute(
                    "DELETE FROM api_hits WHERE client = ? AND at <= clock_timestamp() - make_interval(secs => ?)",
                    (client, window),
                )
                count, wait = w.execute(
                    "SELECT count(*), extract(epoch FROM min(at) + make_interval(secs => ?) - clock_timestamp())"
                    " FROM api_hits WHERE client = ?",
                    (window, client),
                ).fetchone()
                if count >= limit:
                    return max(1, int(float(wait or 0)) + 1)
                w.execute("INSERT INTO api_hits (client, at) VALUES (?, clock_timestamp())", (client,))
            self._sweep(window)
        except Exception as exc:
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning("shared rate limit unavailable (%s): request let through", type(exc).__name__)
        return 0

    def _sweep(self, window: float) -> None:
        with self._guard:
            if time.monotonic() - self._swept < _SWEEP_SECONDS:
                return
            self._swept = time.monotonic()
        self.db.rows(
            "DELETE FROM api_hits WHERE at <= clock_timestamp() - make_interval(secs => ?)", (window,)
        )

    def close(self) -> None:
        self.db.release()


def shared_counter(settings: Settings) -> PostgresCounter | None:
    """The database counter when the app has a shared database (and a limit), else None (in memory)."""
    config = settings.database_config()
    if config is None or settings.api_rate_limit <= 0:
        return None
    return PostgresCounter(Database.open(config))
