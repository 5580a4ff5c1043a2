"""Personal data in questions (assistant/safety/pii.py): Dutch and UK formats found and masked, look-alikes left."""

from __future__ import annotations

import pytest

from assistant.safety.pii import bsn_valid, find_personal_data, iban_valid, mask_personal_data


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("123456782", "bsn"),
        ("1234.56.782", "bsn"),
        ("123 456 782", "bsn"),
        ("jan.jansen@example.nl", "email"),
        ("john.smith@example.co.uk", "email"),
        ("06-12345678", "phone"),
        ("0612345678", "phone"),
        ("+31 6 12345678", "phone"),
        ("+31 20 123 4567", "phone"),
        ("0031 20 1234567", "phone"),
        ("020-1234567", "phone"),
        ("07700 900123", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("+44 (0)20 7946 0958", "phone"),
        ("NL91ABNA0417164300", "iban"),
        ("NL91 ABNA 0417 1643 00", "iban"),
        ("GB82 WEST 1234 5698 7654 32", "iban"),
        ("AB 12 34 56 C", "ni_number"),
        ("AB123456C", "ni_number"),
    ],
)
def test_found_and_masked(text, kind):
    masked, kinds = mask_personal_data(f"Mijn gegevens: {text}. Welke partnerschappen zijn openbaar?")
    assert kinds == [kind] and text not in masked and "Welke partnerschappen zijn openbaar?" in masked


@pytest.mark.parametrize(
    "text",
    [
        "Wat staat er in zaak 123456789 over Marokko?",  # nine digits, not 11-proof: a case number
        "Wat gebeurde er op 2023-06-01 en in 2024?",
        "Het ging om 1.000.000 euro en 40 euro per maand.",
        "Bel 0800-1234 of 14 020 voor de gemeente.",
        "Artikel 12 lid 3 van de Wet 2017.",
        "NL91ABNA0417164301 is geen geldig rekeningnummer.",
        "GB 12 34 56 C is geen NI-nummer (GB is geen geldige reeks).",
    ],
)
def test_look_alikes_are_left_alone(text):
    assert mask_personal_data(text) == (text, [])


def test_checks_and_placeholders():
    assert bsn_valid("123456782") and not bsn_valid("123456789") and not bsn_valid("000000000")
    assert iban_valid("NL91ABNA0417164300") and not iban_valid("NL91ABNA0417164301")
    masked, kinds = mask_personal_data("BSN 123456782, mail a@b.nl, bel 06-12345678, IBAN NL91ABNA0417164300")
    assert masked == "BSN [BSN], mail [E-MAIL], bel [PHONE], IBAN [IBAN]"
    assert kinds == ["bsn", "email", "phone", "iban"]
    assert [f.kind for f in find_personal_data("a@b.nl 06-12345678")] == ["email", "phone"]
