"""Helpers shared by the benchmark scripts: paths, tables, JSON output, resource sampling."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # default of --data: the project's shared data folder beside the checkout
OUT = REPO / "var" / "bench"
SAMPLES = REPO / "samples"


def data_folder(argv: list[str] | None = None) -> Path:
    """The folder holding the shared `corpus/` and `eval/` folders: `--data DIR`, else ../shared."""
    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args):
        if arg == "--data" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--data="):
            return Path(arg.split("=", 1)[1])
    return SHARED


def require_store(store: Path) -> Path:
    """`store` when it holds a finished store, else exit 2 with one line saying how to build one."""
    if not (store / "manifest.json").exists():
        print(f"no store at {store}: build it with `make eval-store DATA=../shared/corpus`", file=sys.stderr)
        raise SystemExit(2)
    return store


def require(path: Path) -> Path:
    """`path`, or a one-line message saying where to get the data, and exit code 2."""
    if not path.exists():
        print(
            f"{path} not found: this benchmark needs the project's shared corpora; pass --data DIR (the folder "
            "holding corpus/ and eval/, distributed with the project, not in this repository)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return path


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def write_json(name: str, data: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return path


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class ResourceMonitor:
    """Samples this process's RSS (peak) and CPU time while a block runs."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.process = psutil.Process()
        self.peak_rss = 0
        self._stop = threading.Event()

    def __enter__(self) -> ResourceMonitor:
        self._cpu0 = self.process.cpu_times()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            self._stop.wait(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
        cpu = self.process.cpu_times()
        self.wall = time.perf_counter() - self._t0
        self.cpu = (cpu.user - self._cpu0.user) + (cpu.system - self._cpu0.system)

    @property
    def cores_busy(self) -> float:
        """Average number of cores kept busy (CPU seconds / wall seconds)."""
        return self.cpu / self.wall if self.wall else 0.0
