"""The one bridge from the (blocking) pipeline to async code: the chat and the HTTP API's server-sent events.

Answers run in their own thread pool (`answer_executor`, `OPENBAAR_ANSWER_THREADS` threads), not in the event loop's
default one: that pool is small (min(32, cores + 4) threads: 6 on two cores) and shared with everything else that
runs in a thread, so 30 questions waiting 2 s each for a model held up every other request, the health check too.

`stream_in_thread(work)` runs `work(on_token)` in that pool and yields ("token", text) for every piece of answer text
as it is produced, then ("result", what `work` returned); an exception in `work` is raised from the iteration after
the tokens that came before it. `in_answer_thread(fn, ...)` runs a function there and returns its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from assistant.answer.base import TokenSink

DEFAULT_ANSWER_THREADS = 64
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def answer_executor(threads: int | None = None) -> ThreadPoolExecutor:
    """The process's pool for answer runs, made on first use (`threads` counts only then)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=threads or DEFAULT_ANSWER_THREADS, thread_name_prefix="openbaar-answer"
            )
        return _executor


async def in_answer_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in the answer pool."""
    return await asyncio.get_running_loop().run_in_executor(answer_executor(), fn, *args)


async def stream_in_thread(work: Callable[[TokenSink], Any]) -> AsyncIterator[tuple[str, Any]]:
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue[str] = asyncio.Queue()

    def on_token(text: str) -> None:
        loop.call_soon_threadsafe(pieces.put_nowait, text)

    task = asyncio.ensure_future(loop.run_in_executor(answer_executor(), work, on_token))
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
