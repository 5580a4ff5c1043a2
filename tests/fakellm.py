"""A small OpenAI-compatible server for tests and benchmarks, on loopback, in a thread of the test process.

Speaks `POST /v1/chat/completions` (SSE `chat.completion.chunk` streaming with chunked transfer encoding, and
non-streaming), `POST /v1/embeddings` (deterministic hashed bag-of-words vectors, float or base64) and
`GET /v1/models`. Chat replies come from a queue of `Reply` scripts (then `default`); a script may be slow,
answer 429/500 with Retry-After, hang, cut the stream or stall after N chunks. Every request is recorded
(path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Content = str | Callable[[dict[str, Any]], str]
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Reply:
    """One scripted chat reply. `content` may be a function of the request body."""

    content: Content = ""
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between chunks
    chunk_size: int = 8  # characters of content per chunk
    hang: bool = False  # never answer (until the server stops)
    cut_after: int | None = None  # close the connection after this many chunks
    stall_after: int | None = None  # stop sending (connection open) after this many chunks
    finish_reason: str = "stop"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any] | None
    at: float = field(default_factory=time.perf_counter)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client closing its keep-alive connection is normal here: no traceback on stderr."""


class FakeLLM:
    """The server; use as a context manager or call `start()`/`stop()`. `url` is the base URL (…/v1)."""

    def __init__(self, default: Reply | None = None, dimension: int = 64) -> None:
        self.default = default or Reply(content='{"answer": "", "status": "not_found", "citations": []}')
        self.dimension = dimension
        self.embed_delay = 0.0  # seconds per embedded text (an embedding server's cost, for ingestion tests)
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.first_chunk_sent: list[
            float
        ] = []  # perf_counter() when each stream's first content chunk was sent
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def chat_requests(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def reset(self) -> None:
        with self.lock:
            self.replies.clear()
            self.requests.clear()
            self.first_chunk_sent.clear()

    def start(self) -> FakeLLM:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fakellm")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self) -> Reply:
        with self.lock:
            return self.replies.popleft() if self.replies else self.default

    # --- embeddings --------------------------------------------------------------------------------------
    def embed(self, text: str) -> list[float]:
        """Hashed bag of words, L2-normalised: texts sharing words are near."""
        vector = [0.0] * self.dimension
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimension
            vector[index] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    # --- HTTP --------------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # chunks leave at once

            def log_message(self, *args: object) -> None:
                pass

            def _record(self, body: dict[str, Any] | None) -> None:
                with fake.lock:
                    fake.requests.append(
                        Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )

            def _json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._record(None)
                if self.path.rstrip("/").endswith("/models"):
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [{"id": "fake-model", "object": "model", "owned_by": "tests"}],
                        },
                    )
                else:
                    self._json(404, {"error": {"message": "not found", "type": "not_found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = None
                self._record(body)
                if body is None:
                    self._json(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
                elif self.path.endswith("/embeddings"):
                    self._embeddings(body)
                elif self.path.endswith("/chat/completions"):
                    self._chat(body, fake._next())
                else:
                    self._json(404, {"error": {"message": "not found", "type": "not_found"}})

            def _embeddings(self, body: dict[str, Any]) -> None:
                inputs = body.get("input")
                inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
                if fake.embed_delay:
                    fake.stopping.wait(fake.embed_delay * len(inputs))
                data = []
                for i, text in enumerate(inputs):
                    vector = fake.embed(text if isinstance(text, str) else " ".join(map(str, text)))
                    if body.get("encoding_format") == "base64":
                        value: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                    else:
                        value = vector
                    data.append({"object": "embedding", "index": i, "embedding": value})
                usage = {"prompt_tokens": 0, "total_tokens": 0}
                self._json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage})

            def _chat(self, body: dict[str, Any], reply: Reply) -> None:
                if reply.hang:
                    fake.stopping.wait(60)
                    return
                if reply.delay:
                    fake.stopping.wait(reply.delay)
                if reply.status != 200:
                    headers = {} if reply.retry_after is None else {"Retry-After": str(reply.retry_after)}
                    kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
                    self._json(
                        reply.status,
                        {"error": {"message": f"scripted {reply.status}", "type": kind}},
                        headers,
                    )
                    return
                content = reply.content(body) if callable(reply.content) else reply.content
                model = body.get("model", "fake-model")
                if not body.get("stream"):
                    self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                     "finish_reason": reply.finish_reason}],
                        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    })  # fmt: skip
                    return
                self._stream(content, model, reply)

            def _send_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stream(self, content: str, model: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [content[i : i + reply.chunk_size] for i in range(0, len(content), reply.chunk_size)]

                def event(delta: dict[str, Any], finish: str | None) -> bytes:
                    chunk = {
                        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }  # fmt: skip
                    return f"data: {json.dumps(chunk)}\n\n".encode()

                try:
                    self._send_chunk(event({"role": "assistant", "content": ""}, None))
                    for n, piece in enumerate(pieces):
                        if reply.cut_after is not None and n >= reply.cut_after:
                            self.close_connection = True
                            self.connection.shutdown(2)  # no terminating chunk: the client sees a cut stream
                            return
                        if reply.stall_after is not None and n >= reply.stall_after:
                            fake.stopping.wait(60)
                            return
                        if n == 0:
                            with fake.lock:
                                fake.first_chunk_sent.append(time.perf_counter())
                        self._send_chunk(event({"content": piece}, None))
                        if reply.chunk_delay:
                            time.sleep(reply.chunk_delay)
                    self._send_chunk(event({}, reply.finish_reason))
                    self._send_chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

        return Handler


# --- helpers for scripting replies from the request --------------------------------------------------------
_PASSAGE = re.compile(r"(#####\w+#####) PASSAGE (\d+)\n(.*?)\n\1 END PASSAGE \2", re.S)


def passages(body: dict[str, Any]) -> dict[int, str]:
    """Passage number -> text (after "text:") of the answer prompt in a chat request body."""
    user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
    out: dict[int, str] = {}
    for m in _PASSAGE.finditer(user):
        out[int(m.group(2))] = m.group(3).split("\ntext:\n", 1)[-1]
    return out


def passage_with(body: dict[str, Any], needle: str) -> int:
    """The number of the first passage containing `needle` (0 when none does)."""
    return next((n for n, text in sorted(passages(body).items()) if needle in text), 0)


def answer_json(answer: str, status: str = "answered", citations: list[tuple[int, str]] | None = None) -> str:
    """A reply in the agreed JSON shape."""
    return json.dumps(
        {
            "answer": answer,
            "status": status,
            "citations": [{"passage": n, "quote": q} for n, q in citations or []],
        },
        ensure_ascii=False,
    )
