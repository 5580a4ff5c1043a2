"""Issue point 5: sources are a compact, numbered list under the answer; the [n] markers link to them; "show in the
source" opens the stored document text with the quoted sentence highlighted in its paragraph.

Today every quote is shown twice (in the answer and again in a large card titled "Bron n" in 24 px), and four
sources push the answer off the screen. The seed article has no link, so a reader cannot check the context at all.
The question asked: the partnerships starter question (4 sources, all from the seed article, which has no URL).
"""

from __future__ import annotations

import re

import pytest

from tests.ux.helpers import (
    DESKTOP,
    PHONE,
    SAMPLES,
    SHOW_IN_SOURCE,
    answers,
    ask,
    lang_of,
    new_page,
    normalise,
    open_chat,
    quotes_in,
    shot,
    visible_count,
)

pytestmark = pytest.mark.integration

MODULE = "sources"
QUESTION = {"nl": "Welke partnerschappen zijn openbaar?", "en": "Which partnerships are public?"}
CASES = {"nl-NL-desktop": ("nl-NL", DESKTOP), "en-US-390x844": ("en-US", PHONE)}
MAX_SOURCES_SHARE = 0.40  # the sources (collapsed) take at most this share of the viewport height
MAX_FONT_RATIO = 1.2  # no text of an answer is more than 1.2 x the size of the answer's own text


@pytest.fixture(scope="module")
def answered(citizen, browser):
    """One page per case, with the partnerships answer on screen (pages are reused by the tests of a case)."""
    pages: dict[str, tuple] = {}

    def get(case: str):
        if case not in pages:
            locale, viewport = CASES[case]
            page, watch = new_page(browser, locale, viewport)
            open_chat(page, citizen.url)
            text = ask(page, QUESTION[lang_of(locale)])
            shot(page, MODULE, f"{case}-answer")
            quotes = quotes_in(text)
            assert len(quotes) >= 3, f"expected an answer with at least 3 quotes: {text}"
            pages[case] = (page, watch, quotes, lang_of(locale))
        return pages[case]

    yield get
    for page, *_ in pages.values():
        page.context.close()


def _space_below_answer_text(page, last_quote: str) -> float:
    """Pixels from the end of the answer text (its last quote, first occurrence) to the end of the message
    (mode label, sources and the copy/feedback bar)."""
    return page.evaluate(
        """([sel, needle]) => {
            const msg = [...document.querySelectorAll(sel)].pop();
            const walker = document.createTreeWalker(msg, NodeFilter.SHOW_TEXT);
            let node; while ((node = walker.nextNode())) { if (node.textContent.includes(needle)) break; }
            if (!node) return -1;
            const range = document.createRange(); range.selectNodeContents(node);
            const quoteBottom = range.getBoundingClientRect().bottom;
            return msg.getBoundingClientRect().bottom - quoteBottom;
        }""",
        ["[data-step-type=assistant_message]", last_quote[:30]],
    )


def _answer_text_size(page, quote: str) -> float:
    return page.evaluate(
        """([sel, needle]) => {
            const msg = [...document.querySelectorAll(sel)].pop();
            const walker = document.createTreeWalker(msg, NodeFilter.SHOW_TEXT);
            let node; while ((node = walker.nextNode())) { if (node.textContent.includes(needle)) break; }
            return node ? parseFloat(getComputedStyle(node.parentElement).fontSize) : 0;
        }""",
        ["[data-step-type=assistant_message]", quote[:30]],
    )


@pytest.mark.parametrize("case", list(CASES))
def test_sources_are_compact_and_nothing_is_heading_sized(answered, case):
    """No text in the answer (source titles included) is larger than 1.2 x the answer text; the sources below the
    answer take at most 40% of the viewport height."""
    page, watch, quotes, _ = answered(case)
    body = _answer_text_size(page, quotes[0])
    biggest, what = answers(page).last.evaluate(
        """root => { let best = [0, ''];
           for (const e of root.querySelectorAll('*')) {
             const own = [...e.childNodes].filter(x => x.nodeType === 3).map(x => x.textContent).join('').trim();
             const r = e.getBoundingClientRect();
             if (own && r.width > 0 && r.height > 0) { const s = parseFloat(getComputedStyle(e).fontSize);
               if (s > best[0]) best = [s, own.slice(0, 40)]; } }
           return best; }"""
    )
    viewport = page.viewport_size["height"]
    below = _space_below_answer_text(page, quotes[-1])
    problems = []
    if biggest > body * MAX_FONT_RATIO:
        problems.append(f"{what!r} is {biggest}px, the answer text {body}px")
    if below > viewport * MAX_SOURCES_SHARE:
        problems.append(
            f"the sources take {below:.0f}px under the answer, over {MAX_SOURCES_SHARE:.0%} of {viewport}px"
        )
    assert not problems, "; ".join(problems)
    watch.assert_clean("with the answer and its sources")


@pytest.mark.parametrize("case", list(CASES))
def test_each_quote_is_shown_once(answered, case):
    """A quote appears once on screen (in the answer); the collapsed source list shows number, title and date."""
    page, _, quotes, _ = answered(case)
    counts = {q[:50]: visible_count(page, q) for q in quotes}
    assert all(n == 1 for n in counts.values()), f"times each quote is visible: {counts}"


def _marker(page, n: int):
    """The [n] marker of the last answer, as a link."""
    return answers(page).last.get_by_role("link", name=re.compile(rf"^\[?{n}\]?$"))


@pytest.mark.parametrize("case", list(CASES))
def test_markers_link_to_their_sources(answered, case):
    """Each [n] in the answer text is a link; clicking [1] brings source 1 into view, opened, with its
    "show in the source" button visible."""
    page, watch, quotes, lang = answered(case)
    for n in range(1, len(quotes) + 1):
        assert _marker(page, n).count() >= 1, f"[{n}] in the answer is not a link"
    _marker(page, 1).first.click()
    page.wait_for_timeout(500)
    shot(page, MODULE, f"{case}-marker-1")
    button = page.get_by_role("button", name=re.compile(SHOW_IN_SOURCE[lang], re.I)).first
    assert button.is_visible(), f"no visible '{SHOW_IN_SOURCE[lang]}' button after clicking [1]"
    box = button.bounding_box()
    assert box and 0 <= box["y"] <= page.viewport_size["height"] - box["height"], (
        "source 1 was not scrolled into view"
    )
    watch.assert_clean("after clicking [1]")


def _seed_paragraph(quote: str) -> str:
    for path in (SAMPLES / "seed").glob("*.txt"):
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
            if quote in normalise(block):
                return normalise(block)
    raise AssertionError(f"quote not found in samples/seed: {quote}")


@pytest.mark.parametrize("case", list(CASES))
def test_show_in_the_source_highlights_the_quote_in_its_paragraph(answered, case):
    """Source 1 has no link (the seed article). Its "show in the source" button (nl "Toon in de bron", en "Show in
    the source") opens a dialog with the stored document text: the quoted sentence is marked (<mark>) and the whole
    paragraph around it is there. Escape closes it and the chat is usable again."""
    page, watch, quotes, lang = answered(case)
    name = re.compile(SHOW_IN_SOURCE[lang], re.I)
    buttons = answers(page).last.get_by_role("button", name=name)
    if not buttons.first.is_visible():  # the list is collapsed: open source 1 the way a visitor would
        for opener in (_marker(page, 1), answers(page).last.locator("summary, [aria-expanded=false]")):
            if opener.count() and not buttons.first.is_visible():
                opener.first.click()
                page.wait_for_timeout(300)
    assert buttons.count() >= 1, f"no '{SHOW_IN_SOURCE[lang]}' button under the answer"
    buttons.first.click()
    dialog = page.locator("[role=dialog]").filter(has=page.locator("mark"))
    dialog.first.wait_for(timeout=5000)
    shot(page, MODULE, f"{case}-show-in-source")
    marked = normalise(dialog.first.locator("mark").first.inner_text())
    assert marked == quotes[0], (marked, quotes[0])
    assert _seed_paragraph(quotes[0]) in normalise(dialog.first.inner_text()), (
        "the quote's paragraph is not shown"
    )
    page.keyboard.press("Escape")
    page.locator("[role=dialog]").first.wait_for(state="detached", timeout=5000)
    assert page.locator("#chat-input").is_visible()
    watch.assert_clean("after showing the source")
