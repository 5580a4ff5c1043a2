"""The chat app's helpers: staff passwords, answer rendering, filters, the self-contained page, the history schema."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from pathlib import Path

import chainlit
import pytest

from assistant.answer.base import Answer, Citation
from assistant.interfaces.chat.chainlit_compat import inline_upload, markdown_language, self_contained
from assistant.interfaces.chat.history import ensure_schema
from assistant.interfaces.chat.staff import (
    StaffUsersError,
    check_login,
    hash_password,
    parse_staff_users,
    verify_password,
)
from assistant.interfaces.chat.view import (
    answer_markdown,
    date_bounds,
    filters_from_settings,
    md_escape,
    safe_answer_text,
    safe_url,
    source_markdown,
    welcome_markdown,
)
from assistant.settings import Settings
from vectorstore.records import Filters


def test_passwords_are_stored_as_salted_scrypt_hashes_only():
    encoded = hash_password("correct horse battery")
    assert encoded.startswith("scrypt$") and "correct" not in encoded
    assert encoded != hash_password("correct horse battery")  # salted
    assert verify_password("correct horse battery", encoded)
    assert not verify_password("wrong", encoded)
    assert not verify_password("x", "scrypt$broken")


def test_staff_users_are_parsed_and_checked():
    users = parse_staff_users(f"alice:{hash_password('pw-alice-12')}, bob:{hash_password('pw-bob-1234')}")
    assert set(users) == {"alice", "bob"}
    assert check_login(users, "alice", "pw-alice-12")
    assert not check_login(users, "alice", "pw-bob-1234")
    assert not check_login(users, "mallory", "pw-alice-12")
    assert parse_staff_users("") == {}
    with pytest.raises(StaffUsersError):
        parse_staff_users("alice:plaintext")


def _answer(status="answered", **kw) -> Answer:
    base = {
        "question": "Welke partnerschappen zijn openbaar?",
        "standalone_question": "Welke partnerschappen zijn openbaar?",
        "status": status,
        "answer": "“Marokko.” [1]",
        "language": "nl",
        "citations": [],
    }
    return Answer(**{**base, **kw})


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("withheld", "Niet openbaar"),
        ("not_found", "Niet gevonden"),
        ("refused", "beantwoord ik niet"),
        ("error", "Technisch probleem"),
    ],
)
def test_a_no_looks_different_from_an_answer(status, label):
    assert label in answer_markdown(_answer(status), "x", "nl")
    assert label not in answer_markdown(_answer(), "x", "nl")


def test_answer_shows_the_rewrite_the_mode_and_the_filters():
    typed = "En Niger?"
    text = answer_markdown(
        _answer(question=typed, standalone_question="Is er een partnerschap met Niger?"),
        typed,
        "en",
        Filters(since="2023-01-01", type="kamerbrief"),
    )
    assert "Understood as" in text and "Niger" in text
    assert "Quoted verbatim" in text and "from 2023-01-01" in text
    plain = answer_markdown(_answer(), "Welke partnerschappen zijn openbaar?", "nl")
    assert "Opgevat als" not in plain


def test_source_text_cannot_inject_markup_or_load_images():
    assert "evil.example" not in safe_answer_text("Zie ![x [y]](//evil.example/a.png) hier.")
    assert "<img" not in safe_answer_text('<img src="https://evil.example/a.png">')
    assert "](" not in safe_answer_text("[Klik hier](https://evil.example/phish)")
    kept = safe_answer_text(
        "Zie [de bron](https://www.rijksoverheid.nl/a) [1].", ["https://www.rijksoverheid.nl/a"]
    )
    assert "[de bron](https://www.rijksoverheid.nl/a)" in kept  # our own source link stays a link
    assert "https\u2060://evil.example" in safe_answer_text("Kijk op https://evil.example/x.")  # not linked
    assert "\u2060" in md_escape("https://evil.example/phish of info@evil.example")
    assert md_escape("![x](y)") == "\\!\\[x\\]\\(y\\)"
    assert safe_url("javascript:alert(1)") is None and safe_url("https://www.rijksoverheid.nl/a") is not None
    citation = Citation(
        1, "d", "d:0", "T", "2023-06", "Minister", "javascript:alert(1)", "![a](http://x/y.png)"
    )
    shown = source_markdown(citation, "nl")
    assert "javascript" not in shown and "![" not in shown and "Minister" in shown


def test_filters_from_chat_settings():
    assert filters_from_settings({"dates": None, "type": "", "language": ""}) is None
    filters = filters_from_settings(
        {"dates": ["2023-06-01T00:00:00.000Z", "2023-06-30"], "type": "artikel", "language": "nl"}
    )
    assert filters == Filters(since="2023-06-01", until="2023-06-30", type="artikel", language="nl")
    assert date_bounds({"date_range": {"first": "2023", "last": "2024-02"}}) == ("2023-01-01", "2024-02-29")


def test_welcome_names_the_loaded_sources_and_the_privacy_note():
    stats = {
        "documents": 3,
        "types": {"artikel": 2, "-": 1},
        "date_range": {"first": "2020", "last": "2023-06"},
    }
    text = welcome_markdown(stats, "nl")
    assert "3 documenten" in text and "artikel 2" in text and "2020" in text and "Privacy" in text
    assert "No sources" in welcome_markdown({}, "en")


def test_the_page_links_nothing_on_other_origins():
    index = Path(chainlit.__file__).parent / "frontend" / "dist" / "index.html"
    html = self_contained(index.read_text(encoding="utf-8"))
    assert "googleapis" not in html and "jsdelivr" not in html and "gstatic" not in html
    assert "/assets/" in html
    assert markdown_language("nl-BE") == "nl" and markdown_language("en-US") == "en-US"


def test_allowed_origins_default_to_the_app_itself():
    assert Settings().allowed_origin_list("127.0.0.1", 8000) == [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
    ]
    listed = Settings(allowed_origins="https://a.example, https://b.example/")
    assert listed.allowed_origin_list("127.0.0.1", 8000) == ["https://a.example", "https://b.example"]


def test_history_schema_is_created_and_elements_are_kept_inline(tmp_path):
    db = tmp_path / "sub" / "chat.sqlite"
    asyncio.run(ensure_schema(f"sqlite+aiosqlite:///{db}"))
    asyncio.run(ensure_schema(f"sqlite+aiosqlite:///{db}"))  # idempotent
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "threads", "steps", "elements", "feedbacks"} <= tables
    stored = inline_upload("“Marokko”", mime="text/plain")
    assert stored["url"].startswith("data:text/plain;charset=utf-8;base64,")
    assert base64.b64decode(stored["url"].split(",", 1)[1]).decode() == "“Marokko”"
    assert inline_upload(b"x" * 100_000) == {}
