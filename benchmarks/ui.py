"""Chat UI speed in headless Chromium, offline mode: page load to interactive, and question sent to first answer token.

Ingests the seed article into var/bench/ui-store (only what changed), starts `openbaar serve` on a free port and
loads the page 10 times in fresh browser contexts, each time asking one question. Times are taken in the page
(performance.now()): load = navigation start until the message box is enabled, the starters are shown and the
chat session has started (the filter settings button, sent by the server, is there);
first token = the Enter key press until the first answer text is on screen.

    .venv/bin/python benchmarks/ui.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import OUT, REPO, SAMPLES, median, percentile, table, write_json
from tests.integration.servers import BROWSER_ARGS, CHROMIUM, OPENBAAR, openbaar_serve

QUESTION = "Welke partnerschappen zijn openbaar?"
SEED = SAMPLES / "seed"

# Installed before the page's own scripts: the first moment answer text appears after the Enter key.
WATCH = """
window.__bench = {sent: null, first: null};
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && window.__bench.sent === null) window.__bench.sent = performance.now();
}, true);
new MutationObserver(() => {
  const b = window.__bench;
  if (b.sent === null || b.first !== null) return;
  const answer = document.querySelector('[data-step-type=assistant_message]');
  if (answer && answer.innerText.trim().length > 0) b.first = performance.now();
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
READY = """() => {
  const box = document.querySelector('#chat-input');
  return box && !box.disabled && document.querySelector('#starters') !== null
    && document.querySelector('#chat-settings-open-modal') !== null;  // sent by the server once the chat started
}"""


def _env(store: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBAAR_", "OPENAI_", "CHAINLIT_"))}
    env.update(OPENBAAR_STORE=str(store), OPENBAAR_CHAT_DB=str(db))
    return env


def measure(url: str, runs: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    loads, firsts = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        for _ in range(runs):
            context = browser.new_context(locale="nl-NL")
            context.add_init_script(WATCH)
            page = context.new_page()
            page.goto(url + "/")
            page.wait_for_function(READY, timeout=30_000)
            loads.append(page.evaluate("performance.now()"))  # navigation start is time 0
            page.fill("#chat-input", QUESTION)
            page.press("#chat-input", "Enter")
            page.wait_for_function("() => window.__bench.first !== null", timeout=30_000)
            firsts.append(page.evaluate("window.__bench.first - window.__bench.sent"))
            context.close()
        browser.close()
    return loads, firsts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    store = OUT / "ui-store"
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(store, Path(tmp) / "chat.sqlite")
        subprocess.run([*OPENBAAR, "ingest", str(SEED)], env=env, cwd=REPO, check=True, capture_output=True)
        with openbaar_serve(Path(tmp) / "serve.log", env) as url:
            measure(url, 1)  # warm-up: first page and first answer of the process
            loads, firsts = measure(url, runs)
    rows = [
        [
            "page load to interactive",
            f"{median(loads):.0f}",
            f"{percentile(loads, 90):.0f}",
            f"{max(loads):.0f}",
        ],
        [
            "question sent to first answer token",
            f"{median(firsts):.0f}",
            f"{percentile(firsts, 90):.0f}",
            f"{max(firsts):.0f}",
        ],
    ]
    print(f"Chat UI, offline mode, headless Chromium, {runs} runs (ms)")
    print(table(["measure", "median", "p90", "max"], rows))
    path = write_json(
        "ui",
        {
            "runs": runs,
            "mode": "extractive",
            "page_load_ms": {"median": median(loads), "p90": percentile(loads, 90), "all": loads},
            "first_token_ms": {"median": median(firsts), "p90": percentile(firsts, 90), "all": firsts},
            "target_first_token_ms": 300,
        },
    )
    print(f"written {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
