"""Chainlit handlers only: answers come from the pipeline, Markdown from view.py, start-up work from bootstrap.py.

Started by `openbaar serve` (which checks the store, staff logins, origins and history database first); Chainlit
loads this module once per process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import chainlit as cl
from chainlit.input_widget import DatePicker, Select
from chainlit.utils import utc_now

from assistant.answer.base import Answer
from assistant.i18n import nl_or_en, t
from assistant.interfaces.chat import chainlit_compat as compat
from assistant.interfaces.chat import view as chat_view
from assistant.interfaces.chat.bootstrap import bootstrap
from assistant.interfaces.chat.sources import ELEMENT as SOURCES_ELEMENT
from assistant.interfaces.chat.sources import sources_props
from assistant.interfaces.chat.staff import check_login
from assistant.interfaces.streaming import stream_in_thread
from assistant.safety.input import MAX_QUESTION_CHARS
from assistant.safety.pii import mask_personal_data
from assistant.settings import get_settings
from vectorstore.records import Filters

log = logging.getLogger("openbaar.app")

APP = bootstrap(get_settings())
ASSISTANT = APP.assistant
HISTORY_TURNS = 10  # earlier user questions given to the pipeline for follow-ups
STREAM_PIECES = 8  # a whole answer given at once is streamed in about this many pieces
LONG_PIECE = 200  # characters: a streamed piece this long is split up


def ui_language() -> str:
    """nl or en, from the browser's preferred language."""
    return nl_or_en(getattr(cl.context.session, "language", None))


def guarded(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Any exception becomes a canned message in the user's language; the error is logged with a request id."""

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except Exception:
            request_id = uuid.uuid4().hex[:12]
            log.exception("handler %s failed request_id=%s", handler.__name__, request_id)
            await cl.Message(content=t("ui.error_reference", ui_language(), request_id=request_id)).send()
            return None

    return wrapper


@cl.data_layer
def data_layer():
    return compat.data_layer(
        APP.history_url, mask=lambda text: mask_personal_data(text)[0], question_chars=MAX_QUESTION_CHARS
    )


if APP.staff:

    @cl.password_auth_callback
    async def staff_login(username: str, password: str) -> cl.User | None:
        if await asyncio.to_thread(check_login, APP.staff, username, password):
            return cl.User(identifier=username, metadata={"role": "staff", "provider": "credentials"})
        return None


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None = None, language: str | None = None) -> list[cl.ChatProfile]:
    """One profile: its description is the welcome text shown above the starters."""
    lang = nl_or_en(language)
    try:
        stats = ASSISTANT.store.catalog.stats()
    except Exception:
        log.warning("store stats unavailable", exc_info=True)
        stats = {}
    return [
        cl.ChatProfile(
            name="openbaar",
            display_name=t("ui.app_name", lang),
            markdown_description=chat_view.welcome_markdown(stats, lang),
            icon="/public/logo.svg",
            default=True,
        )
    ]


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    lang = nl_or_en(language)
    return [
        cl.Starter(label=t(f"ui.starter_{name}_label", lang), message=t(f"ui.starter_{name}", lang))
        for name in ("partnerships", "passport", "clock")
    ]


async def send_filter_settings(lang: str) -> None:
    """Date range, document type and language filters, with the values the store holds (each named in words)."""
    stats = ASSISTANT.store.catalog.stats()
    first, last = chat_view.date_bounds(stats)
    types = chat_view.filter_choices(stats.get("types", {}), lang, chat_view.doctype_name)
    languages = chat_view.filter_choices(stats.get("languages", {}), lang, chat_view.language_name)
    await cl.ChatSettings(
        [
            DatePicker(
                id="dates",
                label=t("ui.filter_dates", lang),
                mode="range",
                min_date=first,
                max_date=last,
                placeholder=t("ui.filter_dates_placeholder", lang),
            ),
            Select(id="type", label=t("ui.filter_type", lang), items=types, initial_value=chat_view.ANY),
            Select(
                id="language",
                label=t("ui.filter_language", lang),
                items=languages,
                initial_value=chat_view.ANY,
            ),
        ]
    ).send()


@cl.on_chat_start
@guarded
async def start() -> None:
    cl.user_session.set("history", [])
    cl.user_session.set("filters", None)
    await send_filter_settings(ui_language())


@cl.on_chat_resume
@guarded
async def resume(thread: dict[str, Any]) -> None:
    """Continue a stored conversation: its user questions become the history again."""
    turns = [s.get("output") or "" for s in thread.get("steps", []) if s.get("type") == "user_message"]
    cl.user_session.set("history", [q for q in turns if q][-HISTORY_TURNS:])
    cl.user_session.set("filters", None)
    await send_filter_settings(ui_language())


@cl.on_settings_update
@guarded
async def settings_update(values: dict[str, Any]) -> None:
    cl.user_session.set("filters", chat_view.filters_from_settings(values))


async def answer_streaming(
    question: str, history: list[str], filters: Filters | None, reply: cl.Message
) -> tuple[Answer, bool]:
    """Run the pipeline in a worker thread, streaming its tokens into `reply`; (final answer, streamed?)."""
    pipeline = ASSISTANT.pipeline()
    streamed = False
    answer: Answer | None = None
    async for kind, value in stream_in_thread(
        lambda on_token: pipeline.run(question, history=history, filters=filters, on_token=on_token)
    ):
        if kind == "token":
            await stream_text(reply, value)
            streamed = True
        else:
            answer = value
    if answer is None:
        raise RuntimeError("the pipeline returned no answer")
    return answer, streamed


async def stream_text(reply: cl.Message, text: str) -> None:
    """Stream a piece of text; a long piece (a whole extractive answer) goes in a few parts, so it still streams."""
    if len(text) < LONG_PIECE:
        await reply.stream_token(text)
        return
    words = text.split(" ")
    size = max(1, len(words) // STREAM_PIECES + 1)
    for i in range(0, len(words), size):
        await reply.stream_token(" ".join(words[i : i + size]) + (" " if i + size < len(words) else ""))


def conversation_lock() -> asyncio.Lock:
    """One answer at a time per conversation: a message sent while another is answered waits its turn (so one chat
    never has more than one model call in flight)."""
    lock = cl.user_session.get("answer_lock")
    if lock is None:
        lock = asyncio.Lock()
        cl.user_session.set("answer_lock", lock)
    return lock


@cl.on_message
async def on_message(message: cl.Message) -> None:
    wait = APP.limiter.check("ip:" + compat.client_address())  # the same budget as the API's, per address
    if wait:
        lang = ui_language()
        reply = cl.Message(content=t("ui.rate_limited", lang, seconds=wait), created_at=utc_now())
        reply.metadata = {"status": "refused", "mode": ASSISTANT.default_mode}
        await reply.send()
        return
    async with conversation_lock():
        await answer_message(message)


async def answer_message(message: cl.Message) -> None:
    lang = ui_language()
    history: list[str] = cl.user_session.get("history") or []
    filters: Filters | None = cl.user_session.get("filters")
    reply = cl.Message(content="", created_at=utc_now())  # a streamed message gets no time otherwise
    anchor = f"openbaar-{reply.id}"  # the [n] markers link to #openbaar-<message id>-<n> in its source list
    sources: cl.CustomElement | None = None
    try:
        answer, streamed = await answer_streaming(message.content, history, filters, reply)
        if not streamed:
            await stream_text(reply, answer.answer)
        reply.content = chat_view.answer_markdown(answer, message.content, lang, filters, anchor=anchor)
        if answer.citations:
            said = chat_view.answer_language(answer, lang)
            props = sources_props(answer, ASSISTANT.store.catalog, said, anchor)
            sources = cl.CustomElement(name=SOURCES_ELEMENT, props=props, display="inline")
        reply.metadata = {"status": answer.status, "mode": answer.mode}
    except Exception:  # never show exception text (or unverified streamed text) to a user
        request_id = uuid.uuid4().hex[:12]
        log.exception("answer failed request_id=%s", request_id)
        reply.content = t("ui.error_reference", lang, request_id=request_id)
        sources = None
    if sources is not None:  # one element holding every source, in [n] order (also when a chat is resumed)
        reply.elements = [sources]
    await (reply.update() if reply.streaming else reply.send())
    cl.user_session.set("history", [*history, message.content][-HISTORY_TURNS:])
