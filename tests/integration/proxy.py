"""A small round-robin TCP proxy on loopback, in front of app replicas (what a reverse proxy does in
`deploy/`, without stickiness): each new connection goes to the next replica; a replica that refuses the
connection is skipped (and left out for `down_seconds`), so only connections already open to a replica that dies
fail. It counts connections per replica, served and open (in flight)."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress


class RoundRobinProxy:
    def __init__(self, backends: list[tuple[str, int]], down_seconds: float = 5.0) -> None:
        self.backends = backends
        self.down_seconds = down_seconds
        self.served = [0] * len(backends)
        self.open = [0] * len(backends)
        self.refused = [0] * len(backends)
        self.connections: list[list] = []  # [backend, accepted at, closed at or None] (time.monotonic)
        self._down_until = [0.0] * len(backends)
        self._next = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="proxy")
        self.port = 0

    def __enter__(self) -> RoundRobinProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def _order(self) -> list[int]:
        with self._lock:
            start = self._next
            self._next = (self._next + 1) % len(self.backends)
        now = time.monotonic()
        order = [(start + i) % len(self.backends) for i in range(len(self.backends))]
        return [i for i in order if self._down_until[i] <= now] + [
            i for i in order if self._down_until[i] > now
        ]

    def in_flight_at(self, backend: int, moment: float, grace: float = 0.0) -> int:
        """Connections to `backend` accepted before `moment` (+ `grace`) and still open at `moment`."""
        return sum(
            1
            for b, accepted, closed in self.connections
            if b == backend and accepted <= moment + grace and (closed or 1e18) > moment
        )

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        accepted = time.monotonic()
        chosen = None
        for i in self._order():
            host, port = self.backends[i]
            try:
                backend_reader, backend_writer = await asyncio.open_connection(host, port)
            except OSError:
                self.refused[i] += 1
                self._down_until[i] = time.monotonic() + self.down_seconds
                continue
            chosen = i
            break
        if chosen is None:
            client_writer.close()
            return
        self.served[chosen] += 1
        self.open[chosen] += 1
        record = [chosen, accepted, None]
        self.connections.append(record)
        try:
            await asyncio.gather(
                self._pipe(client_reader, backend_writer), self._pipe(backend_reader, client_writer)
            )
        finally:
            self.open[chosen] -= 1
            record[2] = time.monotonic()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with suppress(Exception):
                writer.close()
