"""What becomes an image, a link or HTML (assistant/safety/markdown.py): checked with the parser itself and with
remark-gfm's literal autolink patterns, on whole texts and on streams split at every size."""

from __future__ import annotations

import random

import pytest
from markdown_it import MarkdownIt

from assistant.safety.markdown import (
    GFM_EMAIL,
    GFM_URL,
    MarkdownStream,
    defang,
    has_markup,
    hold_from,
    is_inert,
    neutralise,
)

HOSTILE = [
    "Zorgtoeslag Zeewolde ![t](http://h.example/title.png)",
    "Oosterhout [![b](//h.example/nested.png)](//h.example/nested-link)",
    "40 euro extra ![a [x]](//h.example/i.png) [1].\nZie ook ![r][img] [1].\n\n[img]: //h.example/ref.png",
    "[Klik hier voor uw toeslag](https://evil.example/phish)",
    "Meer staat op [klik [hier]](//h.example/quote-link) bij de gemeente [1].",
    "A <script>alert(1)</script>B <img src=x onerror=alert(1)> C <!-- c --> D",
    "<div>\n![x](//h.example/y.png)\n</div>\nok",
    "Zie <https://evil.example/auto> en <mailto:a@evil.example>",
    "> citaat ![x](//h.example/q.png)\n> verder [l](//h.example/l)",
    "- punt [l](//h.example/l)\n- twee ![i](//h.example/i.png)",
    "\\[ontsnapt\\](//h.example/e) en &#91;entity&#93;(//h.example/f)",
    "[ref]\n\n[ref]: //h.example/r 'titel'",
    "Tekst ![alt](<//h.example/spatie in.png>) einde",
    "Link [x](javascript:alert(1)) en [y](data:text/html,hoi)",
]


def live(text: str) -> list[str]:
    """Images, links and HTML a CommonMark renderer (with any link destination) makes of `text`."""
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True
    found = []
    for token in md.parse(text):
        if token.type == "html_block":
            found.append("html_block")
        for child in token.children or []:
            if child.type in ("image", "html_inline") or child.type == "link_open":
                found.append(
                    f"{child.type}:{child.attrs.get('src') or child.attrs.get('href') or child.content}"
                )
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_neutralise_leaves_nothing_live(text):
    out = neutralise(text)
    assert live(out) == [], out
    assert is_inert(out) and not GFM_URL.search(out.replace("//h.example", ""))
    if live(text):  # what was live is gone, address and all (escaped text stays text)
        assert "h.example" not in out and "evil.example/phish" not in out, out
        assert not is_inert(text) and has_markup(text)


def test_text_without_markup_is_unchanged():
    for text in (
        "Gewone tekst [1]. Nog een zin [2][3].",
        "a < b en c > d",
        "“Ze zei: ‘nee’” [1]",
        "*nadruk* en `code`",
    ):
        assert neutralise(text) == text and is_inert(text) and not has_markup(text)


def test_link_text_stays_and_only_allowed_links_remain():
    text = "Zie [de bron](https://ok.example/a) en [dit](https://evil.example/b) [1]."
    assert neutralise(text, ["https://ok.example/a"]) == "Zie [de bron](https://ok.example/a) en dit [1]."
    assert neutralise(text) == "Zie de bron en dit [1]."


def test_bare_urls_and_addresses_removed_when_asked():
    text = "Kijk op https://evil.example/x, www.evil.example of mail info@evil.example [1]."
    out = neutralise(text, bare_urls="remove")
    assert "evil.example" not in out and "[1]." in out
    assert neutralise(text) == text  # kept by default: see defang


def test_defang_breaks_gfm_autolinks_invisibly():
    text = "https://evil.example/x www.evil.example info@evil.example en [bron](https://ok.example/a)"
    out = defang(text, protected=["](https://ok.example/a)"])
    assert not GFM_URL.search(out.split(" en ")[0]) and not GFM_EMAIL.search(out)
    assert out.replace("\u2060", "") == text and "[bron](https://ok.example/a)" in out


def test_hold_from_keeps_open_constructs_back():
    assert hold_from("Tekst [klik [hier") == len("Tekst ")
    assert hold_from("Tekst ![a](//h") == len("Tekst ")
    assert hold_from("Tekst [a]") == len("Tekst ")
    assert hold_from("Tekst <img src") == len("Tekst ")
    assert hold_from("Tekst [1]. Verder ") == len("Tekst [1]. Verder ")
    assert hold_from("Tekst http") == len("Tekst ")


@pytest.mark.parametrize("seed", range(12))
def test_stream_pieces_never_add_up_to_markup(seed):
    rng = random.Random(seed)
    text = "\n".join(rng.sample(HOSTILE, 5)) + " https://evil.example/bare einde."
    stream = MarkdownStream()
    shown, pos = [], 0
    while pos < len(text):
        size = rng.randint(1, 9)
        shown.append(stream.feed(text[pos : pos + size]))
        pos += size
        so_far = "".join(shown)
        assert live(so_far) == [] and not GFM_URL.search(so_far) and not GFM_EMAIL.search(so_far), so_far
    shown.append(stream.finish())
    out = "".join(shown)
    assert live(out) == [] and not GFM_URL.search(out)


def test_stream_of_plain_text_passes_through():
    stream = MarkdownStream()
    pieces = ["Alleen ", "Marokko ", "werd ", "genoemd [", "1]. ", "Klaar."]
    out = "".join(stream.feed(p) for p in pieces) + stream.finish()
    assert out == "".join(pieces) and not stream.broken
