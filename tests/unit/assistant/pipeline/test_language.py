"""Question language: short questions, Dutch default, other languages recognised."""

from __future__ import annotations

import pytest

from assistant.pipeline.language import detect_question_language


@pytest.mark.parametrize(
    "question",
    [
        "Welke partnerschappen zijn openbaar?",
        "Wat zei Jan Klink?",
        "Hoeveel migranten zijn er teruggestuurd naar Niger?",
        "Is Marokko een partner?",
        "DigiD aanvragen",
        "Wie is Liesje Schreinemacher?",
    ],
)
def test_dutch(question):
    assert detect_question_language(question) == "nl"


@pytest.mark.parametrize(
    "question",
    [
        "Which partnerships are public?",
        "What did Jan Klink say?",
        "Is Morocco a partner?",
        "How do I apply for a passport?",
        "Does a migration partnership have a legal status?",
    ],
)
def test_english(question):
    assert detect_question_language(question) == "en"


def test_other_languages_are_recognised():
    assert detect_question_language("Welche Partnerschaften sind öffentlich?") == "de"
    assert detect_question_language("Quels partenariats sont publics?") == "fr"


@pytest.mark.parametrize("question", ["", "?", "Niger?", "Marokko", "123"])
def test_undecidable_defaults_to_dutch(question):
    assert detect_question_language(question) == "nl"
