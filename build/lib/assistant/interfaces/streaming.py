"""The one bridge from the (blocking) pipeline to async code: the chat and the HTTP API's server-sent events.

`stream_in_thread(work)` runs `work(on_token)` in a worker thread and yields ("token", text) for every piece of
answer text as it is produced, then ("result", what `work` returned); an exception in `work` is raised from the
iteration after the tokens that came before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from assistant.answer.base import TokenSink


async def stream_in_thread(work: Callable[[TokenSink], Any]) -> AsyncIterator[tuple[str, Any]]:
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[str] = asyncio.Queue()

    def on_token(text: str) -> None:
        loop.call_soon_threadsafe(pieces.put_nowait, text)

    task = asyncio.ensure_future(asyncio.to_thread(work, on_token))
    while True:
        getter = asyncio.ensure_future(pieces.get())
        await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            break
        yield "token", getter.result()
    while not pieces.empty():
        yield "token", pieces.get_nowait()
    yield "result", task.result()
