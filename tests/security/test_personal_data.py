"""B3: personal data in a question is masked before the model and before storage; old anonymous chats expire
(issue point 7).

A BSN (valid 11-check), e-mail address, phone numbers and IBANs in Dutch and UK formats (and a UK National
Insurance number) are typed into the chat and sent to /api/ask on a server using the fake model. None of them may
reach the model provider (the fake server's recorded requests), the chat database or the server log; the user is
told why. `OPENBAAR_CHAT_RETENTION_DAYS` (new setting) deletes anonymous chats older than N days.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.security.conftest import SEED_FILE, Servers, chat, clean_env, make_store, wait_for

pytestmark = pytest.mark.integration

NL = {
    "bsn": "123456782",  # 11-check: 9*1+8*2+7*3+6*4+5*5+4*6+3*7+2*8-1*2 = 154 = 14*11
    "email": "jan.jansen@example.nl",
    "mobile": "06-12345678",
    "phone": "+31 20 123 4567",
    "iban": "NL91ABNA0417164300",
}
UK = {
    "ni_number": "AB 12 34 56 C",
    "email": "john.smith@example.co.uk",
    "mobile": "07700 900123",
    "phone": "+44 20 7946 0958",
    "iban": "GB82 WEST 1234 5698 7654 32",
}
QUESTION_NL = (
    f"Mijn BSN is {NL['bsn']}, mail me op {NL['email']} of bel {NL['mobile']} of {NL['phone']}; "
    f"rekening {NL['iban']}. Welke partnerschappen zijn openbaar?"
)
QUESTION_UK = (
    f"My National Insurance number is {UK['ni_number']}, e-mail {UK['email']}, call {UK['mobile']} or "
    f"{UK['phone']}, account {UK['iban']}. Which partnerships are public?"
)
TOLD = re.compile(
    r"persoonsgegeven|personal (?:data|information|details)|privacy|gemaskeerd|masked|weggelaten|verwijderd|removed",
    re.I,
)


def digits(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z@.]", "", text)


def found(pii: dict[str, str], text: str) -> list[str]:
    """Which of the personal data items occur in `text` (also with spaces and dashes left out)."""
    squeezed = digits(text)
    return [name for name, value in pii.items() if value in text or digits(value) in squeezed]


@pytest.fixture
def pii_server(seed_llm):
    return seed_llm


@pytest.fixture
def fake(session_fake):
    return session_fake


def sent_to_model(fake) -> str:
    return "\n".join(str(r.body) for r in fake.requests)


def stored(db) -> str:
    with sqlite3.connect(db) as conn:
        rows = [*conn.execute("SELECT name FROM threads"), *conn.execute("SELECT input, output FROM steps")]
        rows += list(conn.execute("SELECT url, name FROM elements"))
    return "\n".join(str(v) for row in rows for v in row)


@pytest.mark.parametrize(("pii", "question"), [(NL, QUESTION_NL), (UK, QUESTION_UK)], ids=["nl", "uk"])
def test_B3a_personal_data_in_the_chat_is_masked_before_the_model_and_the_database(
    pii_server, fake, pii, question
):
    fake.reset()
    with chat(pii_server.url, language="nl-NL" if pii is NL else "en-US") as client:
        client.ask(question)
        client.wait_answers(1)
        replies = "\n".join(client.assistant_texts())
    time.sleep(0.5)  # the data layer writes in the background
    assert fake.chat_requests(), "the question never reached the model: nothing was tested"
    assert found(pii, sent_to_model(fake)) == [], "personal data was sent to the model provider"
    assert found(pii, stored(pii_server.db)) == [], "personal data was stored in the chat database"
    assert found(pii, pii_server.log_text()) == [], "personal data was written to the server log"
    assert TOLD.search(replies), f"the user was not told why the question was changed: {replies[:300]!r}"


def test_B3b_personal_data_sent_to_the_api_never_reaches_the_model(pii_server, fake):
    fake.reset()
    response = httpx.post(f"{pii_server.url}/api/ask", json={"question": QUESTION_NL}, timeout=60)
    assert response.status_code == 200, response.text
    assert fake.chat_requests(), "the question never reached the model: nothing was tested"
    assert found(NL, sent_to_model(fake)) == [], "personal data was sent to the model provider"


def test_B3c_guard_an_invalid_bsn_is_not_personal_data(pii_server, fake):
    """Guard: a nine-digit number failing the 11-check (a case number) is passed on as it is."""
    fake.reset()
    httpx.post(
        f"{pii_server.url}/api/ask",
        json={"question": "Wat staat er in zaak 123456789 over Marokko?"},
        timeout=60,
    )
    assert "123456789" in sent_to_model(fake)


def test_B3d_retention_deletes_old_anonymous_chats(tmp_path, shared_cache):
    env = clean_env(tmp_path, shared_cache)
    make_store([SEED_FILE], env, tmp_path)
    servers = Servers(tmp_path, env)
    try:
        first = servers.start("retention-1")
        with chat(first.url) as client:
            client.ask("Welke partnerschappen zijn openbaar?")
            (old,) = client.wait_answers(1)
        with chat(first.url) as client:
            client.ask("Wat zei Jan Klink?")
            (fresh,) = client.wait_answers(1)
        wait_for(lambda: len(first.db_rows("SELECT id FROM threads")) >= 2, 10, "both chats stored")
    finally:
        servers.close()
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sqlite3.connect(first.db) as conn:  # age the first chat by three days
        conn.execute('UPDATE threads SET "createdAt" = ? WHERE id = ?', (three_days_ago, old["threadId"]))
        conn.execute(
            'UPDATE steps SET "createdAt" = ?, "start" = ?, "end" = ? WHERE "threadId" = ?',
            (three_days_ago, three_days_ago, three_days_ago, old["threadId"]),
        )
    servers = Servers(tmp_path, env)
    try:
        second = servers.start("retention-1", OPENBAAR_CHAT_RETENTION_DAYS="1")
        assert second.db == first.db
        gone = lambda: not second.db_rows("SELECT id FROM threads WHERE id = ?", (old["threadId"],))  # noqa: E731
        try:
            wait_for(gone, 10, "the 3-day-old anonymous chat deleted with OPENBAAR_CHAT_RETENTION_DAYS=1")
        finally:
            kept = second.db_rows("SELECT id FROM threads WHERE id = ?", (fresh["threadId"],))
        assert kept, "the fresh chat was deleted too"
        assert not second.db_rows('SELECT id FROM steps WHERE "threadId" = ?', (old["threadId"],))
    finally:
        servers.close()
