"""W1: writes nobody may make are refused, and what is stored is capped (issue point 6).

- W1a anonymous `PUT /feedback` for a thread and message that do not exist: refused, nothing stored;
- W1b a 2 MB feedback comment: refused or cut (nothing over 10,000 characters is stored);
- W1c with staff login, Bob puts feedback on Alice's message: refused, nothing stored;
- W1d a 900 KB question in the chat: refused (already) and not stored in full in `threads.name` / `steps.output`
  (nothing over 10,000 characters is stored).
The chat database is read with sqlite3; the chat is driven over socket.io as the page drives it.
"""

from __future__ import annotations

import sqlite3
import uuid

import httpx
import pytest

from tests.security.conftest import STAFF, chat, staff_cookie

pytestmark = pytest.mark.integration

STORED_CAP = (
    10_000  # characters: no stored question, thread name or comment is longer (the fix may choose less)
)


@pytest.fixture(scope="module")
def servers(seed_llm, staff_server):
    """The open chat is the session's LLM server (its model answers "not found", so answers are the offline ones)."""
    return {"open": seed_llm, "staff": staff_server}


def feedbacks(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute('SELECT "forId", "threadId", length("comment") FROM feedbacks').fetchall()


def put_feedback(
    base: str, for_id: str, thread_id: str, comment: str, session_id: str, cookie: str | None = None
):
    headers = {"Cookie": cookie} if cookie else {}
    body = {
        "feedback": {"forId": for_id, "threadId": thread_id, "value": 1, "comment": comment},
        "sessionId": session_id,
    }
    return httpx.put(f"{base}/feedback", json=body, headers=headers, timeout=30)


def test_W1a_anonymous_feedback_for_a_thread_that_does_not_exist_is_refused(servers):
    server = servers["open"]
    for_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
    response = put_feedback(server.url, for_id, thread_id, "spam", str(uuid.uuid4()))
    stored = [row for row in feedbacks(server.db) if row[0] == for_id]
    assert stored == [], f"feedback for a thread that does not exist was stored (HTTP {response.status_code})"
    assert response.status_code in (400, 401, 403, 404, 422), (response.status_code, response.text[:200])


def test_W1b_a_2_mb_feedback_comment_is_not_stored(servers):
    server = servers["open"]
    with chat(server.url) as client:
        client.ask("Welke partnerschappen zijn openbaar?")
        (final,) = client.wait_answers(1)
        response = put_feedback(
            server.url, final["id"], final["threadId"], "x" * 2_000_000, client.session_id
        )
    longest = max((row[2] or 0 for row in feedbacks(server.db)), default=0)
    assert longest <= STORED_CAP, f"a {longest:,}-character comment was stored (HTTP {response.status_code})"


def test_W1c_staff_member_cannot_put_feedback_on_another_members_message(servers):
    server = servers["staff"]
    alice = staff_cookie(server.url, "alice", STAFF["alice"])
    with chat(server.url, cookies=alice) as client:
        client.ask("Welke partnerschappen zijn openbaar?")
        (final,) = client.wait_answers(1)
    bob = staff_cookie(server.url, "bob", STAFF["bob"])
    response = put_feedback(
        server.url, final["id"], final["threadId"], "van bob", str(uuid.uuid4()), cookie=bob
    )
    stored = [row for row in feedbacks(server.db) if row[0] == final["id"]]
    assert stored == [], f"Bob's feedback on Alice's message was stored (HTTP {response.status_code})"
    assert response.status_code in (401, 403, 404), (response.status_code, response.text[:200])


def test_W1c_guard_feedback_needs_a_login_when_staff_login_is_on(servers):
    """Guard: without any login, feedback is refused on the staff server."""
    server = servers["staff"]
    response = put_feedback(server.url, str(uuid.uuid4()), str(uuid.uuid4()), "anon", str(uuid.uuid4()))
    assert response.status_code in (401, 403)


def test_W1d_a_900_kb_question_is_refused_and_not_stored_in_full(servers):
    server = servers["open"]
    question = "Welke partnerschappen zijn openbaar? " + "a" * 900_000
    with chat(server.url) as client:
        client.ask(question)
        (final,) = client.wait_answers(1, timeout=90)
    assert final["metadata"]["status"] == "refused", final["metadata"]
    with sqlite3.connect(server.db) as conn:
        names = [n or "" for (n,) in conn.execute("SELECT name FROM threads")]
        outputs = [o or "" for (o,) in conn.execute("SELECT output FROM steps")]
        inputs = [i or "" for (i,) in conn.execute("SELECT input FROM steps")]
    longest = max(map(len, names + outputs + inputs))
    assert longest <= STORED_CAP, f"a {longest:,}-character question was stored in the chat database"


# --- the same on PostgreSQL (a fresh database on the session's throwaway server: tests/conftest.py) -------------
def pg_rows(url: str, query: str) -> list[tuple]:
    import asyncio

    import asyncpg

    async def fetch() -> list[tuple]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [tuple(r) for r in await conn.fetch(query)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


@pytest.fixture(scope="module")
def pg_chat(pg_server, seed_root, shared_cache):
    from tests.integration.servers import create_database, drop_database
    from tests.security.conftest import Servers, clean_env

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = "postgresql+asyncpg://" + create_database(pg_server, name).split("://", 1)[1]
    servers = Servers(seed_root, clean_env(seed_root, shared_cache))
    try:
        yield servers.start("postgres", OPENBAAR_CHAT_DB_URL=url), url
    finally:
        servers.close()
        drop_database(pg_server, name)


def test_W1a_pg_anonymous_feedback_for_a_thread_that_does_not_exist_is_refused(pg_chat):
    server, url = pg_chat
    for_id = str(uuid.uuid4())
    response = put_feedback(server.url, for_id, str(uuid.uuid4()), "spam", str(uuid.uuid4()))
    stored = pg_rows(url, f"SELECT id FROM feedbacks WHERE \"forId\" = '{for_id}'")
    assert stored == [], "feedback for a thread that does not exist was stored"
    assert response.status_code in (400, 401, 403, 404, 422), (
        f"HTTP {response.status_code} {response.text[:100]} for feedback on a thread that does not exist"
    )


def test_W1d_pg_a_900_kb_question_is_not_stored_in_full(pg_chat):
    server, url = pg_chat
    with chat(server.url) as client:
        client.ask("Welke partnerschappen zijn openbaar? " + "a" * 900_000)
        (final,) = client.wait_answers(1, timeout=90)
    assert final["metadata"]["status"] == "refused", final["metadata"]
    longest = max(
        [n or 0 for (n,) in pg_rows(url, "SELECT length(name) FROM threads")]
        + [n or 0 for (n,) in pg_rows(url, "SELECT greatest(length(output), length(input)) FROM steps")]
    )
    assert longest <= STORED_CAP, f"a {longest:,}-character question was stored in PostgreSQL"
