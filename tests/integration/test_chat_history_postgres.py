"""The chat history on a real PostgreSQL (asyncpg), through the app's own schema and Chainlit's data layer.

A throwaway server runs in a temp folder on a free loopback port, as an unprivileged user (initdb refuses root):
`pg_server` in tests/conftest.py, shared by the session. The server binaries come from Debian's `postgresql`
package; `make test` installs it when missing (`make postgres`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest

pytestmark = pytest.mark.integration

QUESTION = "Met welke landen is er een migratiepartnerschap?"
ANSWER = "Alleen Marokko wordt genoemd als land waarmee een partnerschap is gesloten."
QUOTE = "Ze noemde alleen Marokko als land waar een partnerschap mee is."
COMMENT = "Duidelijk, met bron."


@pytest.fixture
def postgres_url(pg_url) -> str:
    """A fresh database on the session's throwaway PostgreSQL (tests/conftest.py), as an asyncpg URL."""
    return "postgresql+asyncpg://" + pg_url.split("://", 1)[1]


def _decoded(data_url: str) -> str:
    assert data_url.startswith("data:text/plain;charset=utf-8;base64,"), data_url[:60]
    return base64.b64decode(data_url.split(",", 1)[1]).decode("utf-8")


async def _history(url: str) -> None:
    import chainlit as cl
    from chainlit.context import ChainlitContext, context_var
    from chainlit.session import HTTPSession
    from chainlit.types import Feedback, Pagination, ThreadFilter
    from chainlit.user import User

    from assistant.interfaces.chat.chainlit_compat import data_layer
    from assistant.interfaces.chat.history import database_url, ensure_schema
    from assistant.settings import Settings

    settings = Settings()
    assert database_url(settings) == url  # OPENBAAR_CHAT_DB_URL wins over the SQLite default
    await ensure_schema(database_url(settings))
    await ensure_schema(database_url(settings))  # again, as every start does: harmless

    layer = data_layer(database_url(settings))
    try:
        alice = await layer.create_user(User(identifier="alice", metadata={"role": "staff"}))
        bob = await layer.create_user(User(identifier="bob", metadata={"role": "staff"}))
        assert alice is not None and bob is not None
        again = await layer.create_user(User(identifier="alice", metadata={"role": "staff", "seen": 2}))
        assert again is not None and again.id == alice.id and again.metadata == {"role": "staff", "seen": 2}

        # One conversation turn as the app makes it: question, streamed answer, one inline source, feedback.
        thread_id = str(uuid.uuid4())
        context_var.set(
            ChainlitContext(
                HTTPSession(id=str(uuid.uuid4()), client_type="webapp", thread_id=thread_id, user=alice)
            )
        )
        await layer.update_thread(thread_id=thread_id, user_id=alice.id)
        question = cl.Message(content=QUESTION, author="alice", type="user_message")
        await layer.create_step(question.to_dict())
        await layer.update_thread(thread_id=thread_id, name=QUESTION)
        reply = cl.Message(content="", author="Openbaar")
        reply.content = ANSWER
        reply.metadata = {"status": "answered", "mode": "extractive"}
        await layer.create_step(reply.to_dict())
        await layer.update_step(reply.to_dict())  # the streamed reply is sent, then updated
        source = cl.Text(name="[1] Kamerbrief juni 2023", content=QUOTE, display="inline")
        source.for_id = reply.id
        await layer.create_element(source)
        feedback_id = await layer.upsert_feedback(
            Feedback(forId=reply.id, threadId=thread_id, value=0, comment=None)
        )
        await layer.upsert_feedback(
            Feedback(id=feedback_id, forId=reply.id, threadId=thread_id, value=1, comment=COMMENT)
        )

        # What Chainlit keeps for resuming (chat settings) goes into the thread's metadata.
        await layer.update_thread(thread_id=thread_id, metadata={"chat_settings": {"period": "2023"}})

        # A citizen's thread (no user) and bob's own thread.
        await layer.update_thread(thread_id=str(uuid.uuid4()), name="Anoniem")
        bobs = str(uuid.uuid4())
        await layer.update_thread(thread_id=bobs, user_id=bob.id, name="Bobs vraag")

        # Alice's sidebar: her thread, and nobody else's.
        listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id))
        assert [t["id"] for t in listed.data] == [thread_id]
        assert listed.data[0]["name"] == QUESTION
        found = await layer.list_threads(
            Pagination(first=20), ThreadFilter(userId=alice.id, search="marokko")
        )
        assert [t["id"] for t in found.data] == [thread_id]
        none = await layer.list_threads(
            Pagination(first=20), ThreadFilter(userId=alice.id, search="Suriname")
        )
        assert none.data == []
        liked = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id, feedback=1))
        assert [t["id"] for t in liked.data] == [thread_id]
        others = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=bob.id))
        assert [t["id"] for t in others.data] == [bobs]
        assert await layer.get_thread_author(thread_id) == "alice"

        # Resuming it: question, answer with its feedback, and the source text.
        thread = await layer.get_thread(thread_id)
        assert thread is not None and thread["userIdentifier"] == "alice" and thread["name"] == QUESTION
        metadata = thread["metadata"]  # a JSON string from SQLite, a dict from PostgreSQL's JSONB
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        assert metadata["chat_settings"] == {"period": "2023"}
        steps = {s["type"]: s for s in thread["steps"]}
        assert steps["user_message"]["output"] == QUESTION
        answer = steps["assistant_message"]
        assert answer["output"] == ANSWER and answer["id"] == reply.id
        assert answer["feedback"] is not None
        assert answer["feedback"]["value"] == 1 and answer["feedback"]["comment"] == COMMENT
        assert len(thread["elements"]) == 1
        element = thread["elements"][0]
        assert element["forId"] == reply.id and element["display"] == "inline"
        assert element["name"] == "[1] Kamerbrief juni 2023"
        assert _decoded(element["url"]) == QUOTE

        # The element endpoint (opening a source on its own) reads the same row.
        single = await layer.get_element(thread_id, source.id)
        assert single is not None and _decoded(single["url"]) == QUOTE

        # Deleting the thread from the sidebar removes it with its steps, source and feedback.
        await layer.delete_thread(thread_id)
        assert await layer.get_thread(thread_id) is None
        assert await layer.get_step(reply.id) is None
        listed = await layer.list_threads(Pagination(first=20), ThreadFilter(userId=alice.id))
        assert listed.data == []
    finally:
        await layer.close()


def _sql_warnings(monkeypatch) -> list[str]:
    """Chainlit's data layer logs a failed SQL statement as a warning and carries on: collect them."""
    from chainlit.data import sql_alchemy

    warned: list[str] = []
    monkeypatch.setattr(sql_alchemy.logger, "warning", lambda msg, *a, **k: warned.append(str(msg)))
    return warned


def test_chat_history_on_postgres(postgres_url, monkeypatch):
    monkeypatch.setenv("OPENBAAR_CHAT_DB_URL", postgres_url)
    warned = _sql_warnings(monkeypatch)
    asyncio.run(_history(postgres_url))
    assert warned == []


def test_chat_history_on_sqlite_the_same(tmp_path, monkeypatch):
    """The same checks on the default database, so both stay alike."""
    monkeypatch.setenv("OPENBAAR_CHAT_DB", str(tmp_path / "var" / "chat.sqlite"))
    warned = _sql_warnings(monkeypatch)
    asyncio.run(_history(f"sqlite+aiosqlite:///{(tmp_path / 'var' / 'chat.sqlite').resolve()}"))
    assert warned == []
