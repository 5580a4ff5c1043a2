"""The chat app's helpers: staff passwords, answer rendering, filters, the self-contained page, the history schema."""

from __future__ import annotations

import asyncio
import base64
import re
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
    ANY,
    answer_markdown,
    date_bounds,
    filter_choices,
    filters_from_settings,
    language_name,
    link_markers,
    md_escape,
    safe_answer_text,
    safe_url,
    welcome_markdown,
)
from assistant.settings import Settings
from vectorstore.records import Filters


def unescaped(markdown: str) -> str:
    """The text a reader sees: Markdown backslash escapes of punctuation removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


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


def _citation(n=1, **kw) -> Citation:
    base = {
        "n": n,
        "doc_id": "seed",
        "chunk_id": "seed:0",
        "title": "Migratiepartnerschappen",
        "date": "2023-06",
        "speaker": None,
        "url": None,
        "quote": "Marokko.",
    }
    return Citation(**{**base, **kw})


def test_answer_shows_the_rewrite_the_mode_and_the_filters():
    typed = "And Niger?"
    text = answer_markdown(
        _answer(
            question=typed,
            standalone_question="Is there a partnership with Niger?",
            language="en",
            citations=[_citation()],
        ),
        typed,
        "nl",
        Filters(since="2023-01-01", type="rijksoverheid-vraag-en-antwoord"),
    )
    assert "Understood as" in text and "Niger" in text
    assert "Quoted verbatim" in text and "from 2023-01-01" in text
    assert "Dutch government Q&A pages" in unescaped(text)
    plain = answer_markdown(_answer(), "Welke partnerschappen zijn openbaar?", "nl")
    assert "Opgevat als" not in plain


def test_an_answer_speaks_one_language_the_question_s():
    """A Dutch answer in an English browser: status label, body and labels all Dutch (and the other way round)."""
    refused = _answer("refused", answer="Deze vraag is te lang (maximaal 1000 tekens).", language="nl")
    text = answer_markdown(refused, "Wat ...", "en")
    assert "Deze vraag beantwoord ik niet" in text and "I do not answer" not in text
    quoted = answer_markdown(_answer(language="en", citations=[_citation()]), "Which?", "nl")
    assert "Quoted verbatim" in quoted and "Letterlijk" not in quoted
    assert "Letterlijk" in answer_markdown(_answer(language="", citations=[_citation()]), "x", "nl")


@pytest.mark.parametrize("status", ["not_found", "refused", "error"])
def test_the_mode_label_only_shows_under_an_answer_that_quotes(status):
    assert "geen taalmodel" not in answer_markdown(
        _answer(status, answer="Ik heb het niet gevonden."), "x", "nl"
    )
    assert "geen taalmodel" in answer_markdown(_answer(citations=[_citation()]), "x", "nl")


def test_markers_link_to_their_sources_and_nothing_else():
    text = link_markers(
        "“a” [1] en “b” [2][1]; [9] \\[1] [1](https://x.example) [1]: y", [1, 2], "openbaar-m"
    )
    assert text.startswith(
        "“a” [\\[1\\]](#openbaar-m-1) en “b” [\\[2\\]](#openbaar-m-2)[\\[1\\]](#openbaar-m-1);"
    )
    assert "[9]" in text and "\\[1]" in text and "[1](https://x.example)" in text and "[1]: y" in text
    shown = answer_markdown(_answer(citations=[_citation()]), "x", "nl", anchor="openbaar-m")
    assert "[\\[1\\]](#openbaar-m-1)" in shown


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


def test_filters_from_chat_settings():
    assert filters_from_settings({"dates": None, "type": ANY, "language": ANY}) is None
    assert filters_from_settings({"dates": None, "type": "", "language": ""}) is None
    filters = filters_from_settings(
        {"dates": ["2023-06-01T00:00:00.000Z", "2023-06-30"], "type": "artikel", "language": "nl"}
    )
    assert filters == Filters(since="2023-06-01", until="2023-06-30", type="artikel", language="nl")
    assert date_bounds({"date_range": {"first": "2023", "last": "2024-02"}}) == ("2023-01-01", "2024-02-29")


def test_filter_choices_never_offer_an_empty_value():
    """Chainlit's Select blanks the whole page on an item whose value is "" (issue 12, point 1)."""
    items = filter_choices({"nl": 179, "und": 1, "": 2}, "nl", language_name)
    assert items == {"Alle": ANY, "Nederlands": "nl"}
    assert all(items.values())


def test_welcome_names_the_loaded_sources_and_the_privacy_note():
    stats = {
        "documents": 180,
        "types": {"rijksoverheid-vraag-en-antwoord": 179, "-": 1},
        "date_range": {"first": "2016-08-16", "last": "2026-02-02"},
    }
    text = welcome_markdown(stats, "nl")
    assert "180 documenten" in text and "2016-08-16" in text and "Privacy" in text
    assert "179 vraag-en-antwoordpagina's van de Rijksoverheid, 1 ander document" in unescaped(text)
    assert "rijksoverheid-vraag-en-antwoord" not in text
    english = welcome_markdown({**stats, "types": {"kamer_brief": 1, "-": 2}, "documents": 3}, "en")
    assert "1 kamer brief, 2 other documents" in english
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
