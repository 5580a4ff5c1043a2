"""The chat history store: Chainlit's SQLAlchemy data layer, with the schema it expects created by us.

Chainlit creates no tables itself. `ensure_schema` creates the five tables (users, threads, steps, elements,
feedbacks) on SQLite or any other SQLAlchemy database (PostgreSQL gets its native UUID, JSONB and TEXT[] types).
Our elements are short texts (quoted sources), so they are stored inline: `InlineStorageClient` turns the text into
a `data:` URL kept in the elements table, instead of uploading it to a blob store.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.element import ElementDict
from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from assistant.settings import Settings

MAX_INLINE_BYTES = 64 * 1024  # a quoted source is far smaller; anything bigger is not kept

_Id = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
_Json = Text().with_variant(postgresql.JSONB(), "postgresql")
_Tags = Text().with_variant(postgresql.ARRAY(Text()), "postgresql")

metadata = MetaData()

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
    """The configured async SQLAlchemy URL, or SQLite (aiosqlite) at `chat_db`."""
    if settings.chat_db_url:
        return settings.chat_db_url
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
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


class InlineStorageClient(BaseStorageClient):
    """Keeps an element's (small, text) content in the database row itself, as a `data:` URL."""

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "text/plain",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if len(raw) > MAX_INLINE_BYTES:
            return {}  # the data layer then logs that the element was not persisted
        kind = mime if mime.startswith("text/") else "text/plain"
        return {
            "object_key": None,
            "url": f"data:{kind};charset=utf-8;base64,{base64.b64encode(raw).decode()}",
        }

    async def delete_file(self, object_key: str) -> bool:
        return True  # the content goes with its row

    async def get_read_url(self, object_key: str) -> str:
        return object_key  # never called: no object keys are stored

    async def close(self) -> None:
        return None


class ChatDataLayer(SQLAlchemyDataLayer):
    """Chainlit's SQLAlchemy data layer, with `get_element` (the single-element endpoint) fixed.

    Chainlit 2.12 calls `json.loads` on the stored `props`, which fails for an element without props (ours: the
    column is NULL, on any database) and on PostgreSQL, where the JSONB column is already read back as a dict.
    """

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        rows = await self.execute_sql(
            query='SELECT * FROM elements WHERE "threadId" = :thread_id AND "id" = :element_id',
            parameters={"thread_id": thread_id, "element_id": element_id},
        )
        if not isinstance(rows, list) or not rows:
            return None
        row = rows[0]
        props = row.get("props")
        if isinstance(props, str):
            props = json.loads(props)
        return ElementDict(
            id=row["id"],
            threadId=row.get("threadId"),
            type=row["type"],
            chainlitKey=row.get("chainlitKey"),
            url=row.get("url"),
            objectKey=row.get("objectKey"),
            name=row["name"],
            props=props if isinstance(props, dict) else {},
            display=row["display"],
            size=row.get("size"),
            language=row.get("language"),
            page=row.get("page"),
            autoPlay=row.get("autoPlay"),
            playerConfig=row.get("playerConfig"),
            forId=row.get("forId"),
            mime=row.get("mime"),
        )


def build_data_layer(settings: Settings) -> SQLAlchemyDataLayer:
    """Chainlit's SQLAlchemy data layer on the configured database, elements kept inline."""
    return ChatDataLayer(conninfo=database_url(settings), storage_provider=InlineStorageClient())
