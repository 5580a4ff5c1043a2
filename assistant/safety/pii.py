"""Personal data in a question: found, and replaced by a placeholder before the question goes anywhere.

Questions are about government statements; a citizen may still type their own details ("mijn BSN is ...").
Those must not reach the model provider, the chat database or a log. Found (Dutch and UK formats):

| kind | what counts |
|---|---|
| `bsn` | 9 digits (groups of 3/4, separated by space, dot or dash allowed) that pass the 11-check (elfproef) |
| `email` | an e-mail address |
| `phone` | a Dutch or UK number: `06-12345678`, `020 123 4567`, `+31 6 12345678`, `0031 ...`, `07700 900123`, `+44 20 7946 0958` |
| `iban` | a country code, two check digits and 11-30 letters/digits (spaces allowed) passing the mod-97 check |
| `ni_number` | a UK National Insurance number: `AB 12 34 56 C` (valid prefix letters, final letter A-D) |

A nine-digit number failing the 11-check (a case or file number) is left alone, as are dates, amounts and years.
`mask_personal_data(text)` returns the text with each item replaced by `[BSN]`, `[E-MAIL]`, `[PHONE]`, `[IBAN]`,
`[NI-NUMBER]`, and the kinds found (for the user's notice and the request's log: kinds, never values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = {
    "bsn": "[BSN]",
    "email": "[E-MAIL]",
    "phone": "[PHONE]",
    "iban": "[IBAN]",
    "ni_number": "[NI-NUMBER]",
}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)(?:31|44)[ -]?(?:\(0\)[ -]?)?|0)[1-9](?:[ -]?\d){8,9}(?![\d])")
_BSN = re.compile(r"(?<![\d.,-])\d(?:[ .-]?\d){8}(?![\d]|[.,-]\d)")
_NI = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-D](?![A-Za-z0-9])"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def bsn_valid(digits: str) -> bool:
    """The 11-check of a burgerservicenummer (9 digits): 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def iban_valid(candidate: str) -> bool:
    """Mod-97 check of an IBAN (spaces ignored, 15-34 characters)."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _ibans(text: str) -> list[Finding]:
    """IBANs, written whole or in groups: from each possible start, the longest run (ending at a word boundary)
    that passes the check."""
    out: list[Finding] = []
    for m in _IBAN_START.finditer(text):
        ends: list[int] = []
        count, i = 4, m.end()
        while i < len(text) and count < 34:
            if text[i] == " " and i + 1 < len(text) and text[i + 1].isalnum() and text[i + 1].isascii():
                i += 1
                continue
            if not (text[i].isalnum() and text[i].isascii()):
                break
            count += 1
            i += 1
            if i == len(text) or not (text[i].isalnum() and text[i].isascii()):
                ends.append(i)
        for end in reversed(ends):
            if iban_valid(text[m.start() : end]):
                out.append(Finding("iban", m.start(), end))
                break
    return out


def find_personal_data(text: str) -> list[Finding]:
    """Every item of personal data in `text`, in order, without overlaps."""
    found: list[Finding] = []
    found += [Finding("email", *m.span()) for m in _EMAIL.finditer(text)]
    found += _ibans(text)
    found += [Finding("ni_number", *m.span()) for m in _NI.finditer(text)]
    found += [Finding("phone", *m.span()) for m in _PHONE.finditer(text)]
    found += [
        Finding("bsn", *m.span()) for m in _BSN.finditer(text) if bsn_valid(re.sub(r"\D", "", m.group(0)))
    ]
    kept: list[Finding] = []
    for item in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and item.start < kept[-1].end:
            continue  # inside an item found already (a longer one wins)
        kept.append(item)
    return kept


def mask_personal_data(text: str) -> tuple[str, list[str]]:
    """(`text` with every item replaced by its placeholder, the kinds found in order of first appearance)."""
    findings = find_personal_data(text)
    if not findings:
        return text, []
    out: list[str] = []
    pos = 0
    for item in findings:
        out.append(text[pos : item.start])
        out.append(PLACEHOLDERS[item.kind])
        pos = item.end
    out.append(text[pos:])
    return "".join(out), list(dict.fromkeys(f.kind for f in findings))
