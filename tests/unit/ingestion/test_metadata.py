"""Dates, languages and the plain-text header parser."""

from __future__ import annotations

import pytest

from ingestion.language import detect_language, normalise_language
from ingestion.metadata import parse_front_matter, parse_header
from vectorstore.dates import date_sort_key, normalise_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023", "2023"),
        ("2023-06", "2023-06"),
        ("2023-06-14", "2023-06-14"),
        (" 2023-06-14T10:00:00Z ", "2023-06-14"),
        ("2023-06-14T10:00:00.5+02:00", "2023-06-14"),
        ("2023-06-14 10:00", "2023-06-14"),
        ("14-06-2023", "2023-06-14"),
        ("14/06/2023", "2023-06-14"),
        ("2023/06/14", "2023-06-14"),
        ("2023-6-4", "2023-06-04"),
    ],
)
def test_normalise_date_accepts_common_spellings(raw: str, expected: str) -> None:
    assert normalise_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", "juni", "2023-13", "2023-02-30", "31-02-2023", "2023-06 Het kabinet", "2023/06-14", "99"],
)
def test_normalise_date_rejects_non_dates(raw: str | None) -> None:
    assert normalise_date(raw) is None


def test_date_sort_key_orders_partial_dates_before_full_dates_of_that_period() -> None:
    assert date_sort_key("2023") == 20230000
    assert date_sort_key("2023-06") == 20230600
    assert date_sort_key("2023-06-14") == 20230614
    assert date_sort_key("14-06-2023") == 20230614
    assert date_sort_key(None) is None
    assert date_sort_key("onbekend") is None
    assert (
        date_sort_key("2023") < date_sort_key("2023-01") < date_sort_key("2023-01-01") < date_sort_key("2024")
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("nl", "nl"), ("NL", "nl"), ("nl-NL", "nl"), ("en_GB", "en"), ("nld", "nl"), ("und", None), ("", None)],
)
def test_normalise_language(raw: str, expected: str | None) -> None:
    assert normalise_language(raw) == expected


# --- language detection ------------------------------------------------------------------------------------


def test_detects_dutch_and_english() -> None:
    assert (
        detect_language("Het kabinet wil niet openbaar maken met welke landen afspraken worden gemaakt.")
        == "nl"
    )
    assert detect_language("The government will publish the guidance for schools next week.") == "en"


def test_detects_languages_other_than_dutch_and_english() -> None:
    assert (
        detect_language("Die Bundesregierung hat heute neue Regeln für die Einwanderung beschlossen.") == "de"
    )
    assert (
        detect_language("Le gouvernement a annoncé de nouvelles mesures pour les écoles publiques.") == "fr"
    )


def test_too_short_text_is_undetermined() -> None:
    assert detect_language("Ja.") == "und"
    assert detect_language("Dank u wel.") == "und"
    assert detect_language("") == "und"
    assert detect_language("12345 67890 !!! ???") == "und"


def test_dutch_narrowly_read_as_afrikaans_is_dutch() -> None:
    # py3langid alone ranks this Tweede Kamer line Afrikaans (0.65) over Dutch (0.32).
    assert detect_language("Dit was in tweede instantie.") == "nl"


def test_clear_afrikaans_and_frisian_are_kept() -> None:
    assert detect_language("Die kinders speel buite in die son en hulle is baie gelukkig.") == "af"
    assert detect_language("It giet oer de takomst fan it lân en de minsken dy't hjir wenje.") == "fy"


# --- header ------------------------------------------------------------------------------------------------


def test_seed_style_date_then_text_on_one_line() -> None:
    meta, text = parse_header("  date 2023-06 Het kabinet wil niet.\n\nTweede alinea.")
    assert meta == {"date": "2023-06"}
    assert text == "Het kabinet wil niet.\n\nTweede alinea."


def test_colon_and_space_header_lines_are_metadata_not_text() -> None:
    raw = (
        "Title: Migratie in de Kamer\n"
        "date 2023-06-14\n"
        "url: https://example.nl/a\n"
        "speaker Liesje Schreinemacher\n"
        "party: VVD\n"
        "language nl\n"
        "\n"
        "De tekst begint hier.\n"
        "title: dit is geen kop meer"
    )
    meta, text = parse_header(raw)
    assert meta == {
        "title": "Migratie in de Kamer",
        "date": "2023-06-14",
        "url": "https://example.nl/a",
        "speaker": "Liesje Schreinemacher",
        "party": "VVD",
        "language": "nl",
    }
    assert text == "De tekst begint hier.\ntitle: dit is geen kop meer"


def test_header_stops_at_first_other_line() -> None:
    meta, text = parse_header("id: abc-1\nHet kabinet zegt:\ndate: 2023")
    assert meta == {"id": "abc-1"}
    assert text == "Het kabinet zegt:\ndate: 2023"


@pytest.mark.parametrize(
    "prose",
    [
        "type 2 diabetes komt steeds vaker voor.\n\nDat zegt het RIVM.",
        "Type 2 diabetes komt steeds vaker voor.",
        "date night is geen beleid.",
        "Het kabinet wil niet openbaar maken met welke landen.",
        "url van de site volgt later.",
    ],
)
def test_prose_that_starts_like_a_key_is_left_alone(prose: str) -> None:
    assert parse_header(prose) == ({}, prose)


def test_front_matter() -> None:
    meta, text = parse_front_matter(
        '---\ntitle: "Kamerbrief: migratie"\ndate: 2023-06-14\ntags:\n  - a\n---\n# Kop\n'
    )
    assert meta == {"title": "Kamerbrief: migratie", "date": "2023-06-14"}
    assert text == "# Kop\n"
    unclosed = "---\ntitle: x\nGeen einde"
    assert parse_front_matter(unclosed) == ({}, unclosed)
