"""Offline condensing of follow-up questions."""

from __future__ import annotations

import pytest

from assistant.pipeline.followup import condense, is_followup


def test_pronoun_is_replaced_by_the_name_from_history():
    assert (
        condense("Wat zei zij over de juridische status?", ["Wie is Liesje Schreinemacher?"])
        == "Wat zei Liesje Schreinemacher over de juridische status?"
    )


def test_opener_is_dropped_and_pronoun_resolved():
    standalone = condense("En van welke partij is hij?", ["Wat zei Jan Klink?"])
    assert "Jan Klink" in standalone
    assert standalone == "Van welke partij is Jan Klink?"


def test_english_pronoun_and_possessive():
    assert (
        condense("What did she say about the legal status?", ["Who is Liesje Schreinemacher?"])
        == "What did Liesje Schreinemacher say about the legal status?"
    )
    assert condense("Wat is haar functie?", ["Wie is Liesje Schreinemacher?"]) == (
        "Wat is de functie van Liesje Schreinemacher?"
    )


def test_elliptical_name_swaps_into_previous_question():
    assert condense("En Stieneke van der Graaf?", ["Wat zei Jan Klink?"]) == "Wat zei Stieneke van der Graaf?"


def test_most_recent_name_wins():
    history = ["Wat zei Jan Klink?", "Wie is Liesje Schreinemacher?"]
    assert "Liesje Schreinemacher" in condense("Wat zei zij?", history)


def test_short_or_demonstrative_follow_up_carries_the_previous_subject():
    standalone = condense("Waarom?", ["Welke partnerschappen zijn openbaar?"])
    assert "partnerschappen" in standalone and "openbaar" in standalone
    standalone = condense("En met welke landen nog meer?", ["Welke partnerschappen zijn openbaar?"])
    assert standalone == "Welke partnerschappen zijn openbaar — en met welke landen nog meer?"


def test_a_follow_up_leaning_on_a_follow_up_carries_the_whole_conversation():
    history = [
        "Verzamelen de AIVD en MIVD ook gegevens van gewone burgers?",
        "Hoeveel daarvan gooien ze direct weg?",
    ]
    standalone = condense("En hoe lang mogen ze de rest bewaren?", history)
    assert "AIVD" in standalone and "gooien" in standalone and standalone.endswith("de rest bewaren?")


def test_an_office_is_not_taken_for_the_person_a_pronoun_means():
    standalone = condense("What job does she have?", ["Who did Biden pick for Labor Secretary in 2023?"])
    assert "Labor Secretary has" not in standalone and "Labor Secretary" in standalone


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("Welke partnerschappen zijn openbaar?", ["Wat zei Jan Klink?"]),
        ("Wat zei Jan Klink?", []),
        ("Wat zei zij?", []),
        ("Hoeveel migranten zijn er teruggestuurd naar Niger?", ["Wie is Liesje Schreinemacher?"]),
    ],
)
def test_standalone_questions_are_unchanged(question, history):
    assert condense(question, history) == question


def test_is_followup():
    assert is_followup("En hij?")
    assert is_followup("Wat nog meer?")
    assert is_followup("And what about Morocco?")
    assert not is_followup("Welke landen noemde Schreinemacher?")
    assert not is_followup("Met welke landen in Noord-Afrika worden nog meer partnerschappen gesloten?")
