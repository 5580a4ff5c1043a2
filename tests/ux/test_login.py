"""Issue points 10 and 6: the staff login page, and a staff member's resumed conversation.

Point 10: the user field is labelled "E-mailadres"/"Email address" for a user name, and a wrong password shows the
raw toast "Unauthorized: credentialssignin" beside the friendly message.
Point 6: after a reload, a resumed chat lists its sources out of order (e.g. Bron 2, 4, 3, 1).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.ux.helpers import DESKTOP, STAFF, answers, ask, lang_of, new_page, normalise, shot

pytestmark = pytest.mark.integration

MODULE = "login"
# The login page asks the server who is logged in before anyone is: Chainlit's frontend logs those 401 answers
# (and the 401 of a wrong password) as console errors itself. They are the only console errors allowed here.
ALLOW_401 = (r"status of 401", r"Unauthorized")
USER_LABEL = {"nl": re.compile(r"gebruikersnaam", re.I), "en": re.compile(r"user ?name", re.I)}
FRIENDLY = re.compile(
    r"kan niet inloggen|onjuist|klopt niet|unable to sign in|incorrect|wrong|not correct", re.I
)
RAW = ("credentialssignin", "Unauthorized")


def user_field(page):
    return page.locator("form input:not([type=password]):not([type=hidden])").first


def login(page, url: str, name: str, password: str) -> None:
    page.goto(url + "/")
    user_field(page).fill(name)
    page.locator("form input[type=password]").fill(password)
    page.locator("form button[type=submit]").click()


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_the_user_field_is_labelled_as_a_user_name(staff, browser, locale):
    """Staff log in with a user name (OPENBAAR_STAFF_USERS), so the field says so: nl "Gebruikersnaam",
    en "User name"/"Username"; never "e-mail", and no e-mail address as placeholder."""
    page, watch = new_page(browser, locale, DESKTOP, allow=ALLOW_401)
    try:
        page.goto(staff.url + "/")
        field = user_field(page)
        field.wait_for()
        shot(page, MODULE, f"login-{locale}")
        label = page.evaluate(
            """e => (e.labels && e.labels.length ? [...e.labels].map(l => l.innerText).join(' ') : '')
                    || e.getAttribute('aria-label') || e.placeholder || ''""",
            field.element_handle(),
        )
        assert "mail" not in label.lower(), f"the user field is labelled {label!r}"
        placeholder = field.get_attribute("placeholder") or ""
        assert "@" not in placeholder, f"the user field suggests an e-mail address: {placeholder!r}"
        assert USER_LABEL[lang_of(locale)].search(label), f"the user field is labelled {label!r}"
        watch.assert_clean("on the login page")
    finally:
        page.context.close()


@pytest.mark.parametrize("locale", ["nl-NL", "en-US"])
def test_a_wrong_password_shows_one_friendly_message(staff, browser, locale):
    """A wrong password shows one message in the visitor's language and no raw 'Unauthorized: credentialssignin'."""
    page, watch = new_page(browser, locale, DESKTOP, allow=ALLOW_401)
    try:
        login(page, staff.url, "alice", "not-her-password")
        page.wait_for_timeout(2000)
        shot(page, MODULE, f"wrong-password-{locale}")
        text = page.locator("body").inner_text()
        raw = [r for r in RAW if r.lower() in text.lower()]
        assert not raw, f"raw error text shown to the visitor: {raw} in {text!r}"
        assert FRIENDLY.search(text), f"no friendly message after a wrong password: {text!r}"
        watch.assert_clean("after a wrong password")
    finally:
        page.context.close()


def _source_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?:Bron|Source)\s+(\d+)", text)]


def _settled_answer(page, expected_length: int, timeout: float = 15) -> str:
    """The first answer's text once it stopped changing (a resumed thread arrives in pieces)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if answers(page).count():
            text = normalise(answers(page).first.inner_text())
            if text == last and len(text) >= expected_length * 0.9:
                return text
            last = text
        page.wait_for_timeout(500)
    return last


def test_a_resumed_chat_keeps_the_order_of_its_sources(staff, browser):
    """Alice asks a question with 4 sources, then reloads the page twice: the resumed conversation shows the
    answer and its sources exactly as before, in the order of the [n] markers."""
    page, watch = new_page(browser, "nl-NL", DESKTOP, allow=ALLOW_401)
    try:
        login(page, staff.url, "alice", STAFF["alice"])
        page.wait_for_selector("#chat-input")
        ask(page, "Welke partnerschappen zijn openbaar?")
        before = _settled_answer(page, 0)
        assert len(re.findall(r"\[\d\]", before)) >= 3, before
        page.wait_for_url(re.compile(r"/thread/"))
        for reload in (1, 2):
            page.reload()
            after = _settled_answer(page, len(before))
            shot(page, MODULE, f"resumed-{reload}")
            numbers = _source_numbers(after)
            assert numbers == sorted(numbers), f"sources after reload {reload}: {numbers}"
            assert after == before, (
                f"the resumed answer differs after reload {reload}:\n{after}\n---\n{before}"
            )
        watch.assert_clean("in the resumed chat")
    finally:
        page.context.close()
