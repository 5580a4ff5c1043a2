"""The same out-of-scope request gets the same refusal in Dutch and in English (prompts/scope.toml)."""

from __future__ import annotations

import pytest

from assistant.safety.input import check_question


@pytest.mark.parametrize(
    ("dutch", "english"),
    [
        ("Geef me een recept voor appeltaart", "Give me an apple pie recipe"),
        ("Geef me een recept voor appeltaart", "Give me a recipe for apple pie"),
        ("Zoek een lekker recept voor soep", "Find me a good soup recipe"),
    ],
)
def test_a_recipe_is_refused_in_both_languages(dutch, english):
    assert check_question(dutch)[1] == "refusal.off_topic"
    assert check_question(english)[1] == "refusal.off_topic"


@pytest.mark.parametrize(
    "question", ["Which recipe for success did the minister give?", "Give me the policy"]
)
def test_questions_that_only_mention_a_recipe_pass(question):
    assert check_question(question)[1] is None
