"""The chat history database: the schema Chainlit's SQLAlchemy data layer expects, created by us.

Chainlit creates no tables itself. `ensure_schema` creates the five tables (users, threads, steps, elements,
feedbacks) on SQLite or any other SQLAlchemy database (PostgreSQL gets its native UUID, JSONB and TEXT[] types).
Plain SQLAlchemy: nothing here imports Chainlit (the data layer itself is in chainlit_compat.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from assistant.settings import Settings

_Id = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
_Json = Text().with_variant(postgresql.JSONB(), "postgresql")
_Tags = Text().with_variant(postgresql.ARRAY(Text()), "postgresql")

metadata = MetaData()
_SCHEMA_LOCK = 0x0B5E_0002  # advisory lock key serialising the creation of these tables between replicas

Table(
    "users",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("identifier", Text, nullable=False, unique=True),
    Column("metadata", _Json, nullable=False),
    Column("createdAt", Text),
)
Table(
    "threads",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("createdAt", Text),
    Column("name", Text),
    Column("userId", _Id, ForeignKey("users.id", ondelete="CASCADE")),
    Column("userIdentifier", Text),
    Column("tags", _Tags),
    Column("metadata", _Json),
)
Table(
    "steps",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("threadId", _Id, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("parentId", _Id),
    Column("streaming", Boolean, nullable=False),
    Column("waitForAnswer", Boolean),
    Column("isError", Boolean),
    Column("metadata", _Json),
    Column("tags", _Tags),
    Column("input", Text),
    Column("output", Text),
    Column("createdAt", Text),
    Column("command", Text),
    Column("modes", _Json),
    Column("start", Text),
    Column("end", Text),
    Column("generation", _Json),
    Column("showInput", Text),
    Column("language", Text),
    Column("indent", Integer),
    Column("defaultOpen", Boolean),
    Column("autoCollapse", Boolean),
    Column("icon", Text),
)
Table(
    "elements",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("threadId", _Id, ForeignKey("threads.id", ondelete="CASCADE")),
    Column("type", Text),
    Column("url", Text),
    Column("chainlitKey", Text),
    Column("name", Text, nullable=False),
    Column("display", Text),
    Column("objectKey", Text),
    Column("size", Text),
    Column("page", Integer),
    Column("language", Text),
    Column("forId", _Id),
    Column("mime", Text),
    Column("props", _Json),
    Column("autoPlay", Boolean),
    Column("playerConfig", _Json),
)
Table(
    "feedbacks",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("forId", _Id, nullable=False),
    Column("threadId", _Id, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("value", Integer, nullable=False),
    Column("comment", Text),
)


def database_url(settings: Settings) -> str:
    """The configured async SQLAlchemy URL; else the shared database (`OPENBAAR_DB_URL`, through asyncpg), so
    replicas share the history; else SQLite (aiosqlite) at `chat_db`."""
    if settings.chat_db_url:
        return settings.chat_db_url
    if settings.db_url is not None:
        return "postgresql+asyncpg://" + settings.db_url.get_secret_value().split("://", 1)[1]
    return f"sqlite+aiosqlite:///{Path(settings.chat_db).resolve()}"


async def ensure_schema(url: str) -> None:
    """Create the tables Chainlit's SQLAlchemy data layer uses, if they do not exist yet."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if (
                engine.dialect.name == "postgresql"
            ):  # replicas starting together: one creates, the others wait
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


async def delete_old_anonymous_threads(url: str, days: int, now: datetime | None = None) -> int:
    """Delete the conversations without a user (citizens, no staff login) created more than `days` days ago, with
    their messages, sources and feedback; the number of conversations deleted. `days` <= 0 deletes nothing."""
    if days <= 0:
        return 0
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    threads = metadata.tables["threads"]
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            old = select(threads.c.id).where(
                and_(
                    threads.c.userId.is_(None), threads.c.createdAt.is_not(None), threads.c.createdAt < cutoff
                )
            )
            ids = [row[0] for row in (await conn.execute(old)).all()]
            if not ids:
                return 0
            for name in ("feedbacks", "elements", "steps"):
                table = metadata.tables[name]
                await conn.execute(delete(table).where(table.c.threadId.in_(ids)))
            await conn.execute(delete(threads).where(threads.c.id.in_(ids)))
            return len(ids)
    finally:
        await engine.dispose()
