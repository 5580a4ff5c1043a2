"""I7: no request to another origin while an answer streams or after it (issue point 2).

A request sink runs on another loopback port (another origin). Hostile documents carry markdown images pointing at
it in their title, speaker and text; the fake model writes images with nested brackets and protocol-relative URLs.
Real Chromium records every request the chat page makes; the sink records every request that reaches it.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from httpx_sse import connect_sse

from tests.fakellm import Reply, answer_json, passage_with
from tests.security.conftest import ZEEWOLDE, Hostile, ask_in_page, chat, open_chat, wait_for_answers

pytestmark = pytest.mark.integration


def outside_markup(text: str, host: str) -> list[str]:
    """Markdown images/links, HTML attributes or bare URLs in `text` that point at `host`."""
    return re.findall(rf"[^\s]*{re.escape(host)}[^\s]*", text)


def requests_to_sink(hostile: Hostile, recorder) -> list[str]:
    return sorted(set(recorder.to(hostile.sink.host) + hostile.sink.hits))


def nested_image_reply(host: str, name: str):
    """A model reply whose supported sentence carries images the stream guard and sanitizer must catch."""

    def reply(body):
        n = passage_with(body, ZEEWOLDE) or 1
        text = (
            f"Huishoudens met een laag inkomen krijgen 40 euro extra ![a [x]](//{host}/{name}-nested.png) [{n}].\n"
            f"Zie ook ![r][img] [{n}].\n\n[img]: //{host}/{name}-ref.png"
        )
        return answer_json(text, citations=[(n, ZEEWOLDE)])

    return Reply(reply, chunk_size=6, chunk_delay=0.01)


def test_I7a_extractive_title_image_is_not_fetched_while_streaming(hostile, browser):
    """A document title `X ![t](http://outside/t.png)` is streamed inside `Volgens "{title}"`."""
    hostile.sink.hits.clear()
    page, recorder = open_chat(browser, hostile.extractive.url)
    try:
        ask_in_page(page, "Wat is de Zeewolde-regeling voor de zorgtoeslag?")
        text = wait_for_answers(page, 1)
        assert "Zeewolde" in text, text  # the hostile document was the one quoted
        page.wait_for_timeout(1000)
        hits = requests_to_sink(hostile, recorder)
        assert hits == [], f"the page fetched from outside while the answer streamed: {hits}"
    finally:
        page.context.close()


def test_I7b_extractive_nested_image_link_in_title_is_not_fetched(hostile, browser):
    """A title holding a linked image with protocol-relative URLs: `[![b](//host/x.png)](//host/y)`."""
    hostile.sink.hits.clear()
    page, recorder = open_chat(browser, hostile.extractive.url)
    try:
        ask_in_page(page, "Wanneer gaat de Oosterhout-regeling in volgens minister Tromp?")
        text = wait_for_answers(page, 1)
        assert "Oosterhout" in text, text
        page.wait_for_timeout(1000)
        hits = requests_to_sink(hostile, recorder)
        assert hits == [], f"a linked image in a title was fetched: {hits}"
    finally:
        page.context.close()


def test_I7c_model_text_with_nested_brackets_and_protocol_relative_url_is_not_fetched(hostile, browser):
    """`![a [x]](//host/i.png)` and a reference-style image in model text, streamed in small pieces."""
    hostile.sink.hits.clear()
    hostile.fake.reset()
    hostile.fake.script(nested_image_reply(hostile.sink.host, "chat"))
    page, recorder = open_chat(browser, hostile.llm.url)
    try:
        ask_in_page(page, "Wat is de Zeewolde-regeling voor de zorgtoeslag?")
        wait_for_answers(page, 1)
        page.wait_for_timeout(1000)
        assert hostile.fake.chat_requests(), "the model was not asked"
        hits = requests_to_sink(hostile, recorder)
        assert hits == [], f"model text made the page fetch from outside: {hits}"
    finally:
        page.context.close()


def test_I7d_understood_as_line_is_sanitised(hostile, browser):
    """The follow-up rewrite ("understood as") holds an image with nested brackets."""
    host = hostile.sink.host
    hostile.sink.hits.clear()
    hostile.fake.reset()

    def answer(body):
        n = passage_with(body, ZEEWOLDE) or 1
        return answer_json(f"Het gaat om 40 euro per maand [{n}].", citations=[(n, ZEEWOLDE)])

    hostile.fake.script(
        Reply(answer),
        Reply(f"Hoeveel geeft de Zeewolde-regeling ![a [x]](//{host}/understood.png) per maand?"),
        Reply(answer),
    )
    page, recorder = open_chat(browser, hostile.llm.url)
    try:
        ask_in_page(page, "Wat is de Zeewolde-regeling voor de zorgtoeslag?")
        wait_for_answers(page, 1)
        ask_in_page(page, "En hoeveel is dat?")
        wait_for_answers(page, 2)
        page.wait_for_timeout(1000)
        assert requests_to_sink(hostile, recorder) == []
    finally:
        page.context.close()


def test_I7e_chat_stream_carries_no_outside_markup(hostile):
    """The websocket frames themselves: neither the streamed tokens nor the final message of the offline answer
    may carry an image or link to another origin (every piece is sanitised before it is sent)."""
    with chat(hostile.extractive.url) as client:
        client.ask("Wat is de Zeewolde-regeling voor de zorgtoeslag?")
        client.wait_answers(1)
        streamed = client.tokens()
    assert "Zeewolde" in streamed
    assert outside_markup(streamed, hostile.sink.host) == [], streamed


@pytest.mark.parametrize("server", ["extractive", "llm"])
def test_I7f_api_stream_events_carry_no_outside_markup(hostile, server):
    """/api/ask/stream: token events (and the final answer) hold no image or link to another origin, so a page
    rendering them as markdown fetches nothing from elsewhere."""
    base = getattr(hostile, server).url
    hostile.fake.reset()
    if server == "llm":
        hostile.fake.script(nested_image_reply(hostile.sink.host, "api"))
    with (
        httpx.Client(timeout=60) as client,
        connect_sse(
            client,
            "POST",
            f"{base}/api/ask/stream",
            json={"question": "Wat is de Zeewolde-regeling voor de zorgtoeslag?"},
        ) as source,
    ):
        events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    tokens = "".join(d.get("text", "") for kind, d in events if kind == "token")
    final = next(d for kind, d in events if kind == "answer")
    assert final["status"] == "answered", final
    assert outside_markup(tokens, hostile.sink.host) == [], tokens
    assert outside_markup(final["answer"], hostile.sink.host) == [], final["answer"]
