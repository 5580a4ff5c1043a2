"""BM25 index over the same chunks as the vectors, stemmed by each chunk's language, saved beside the store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMERS = {"nl": "dutch", "en": "english", "de": "german", "fr": "french"}
_STOPWORDS = {"nl": frozenset(STOPWORDS_DUTCH), "en": frozenset(STOPWORDS_EN)}
QUERY_LANGUAGES = ("nl", "en")  # a question is stemmed both ways: it may be asked in either language


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    name = _STEMMERS.get(language)
    return Stemmer.Stemmer(name) if name else None


def tokenize(text: str, language: str) -> list[str]:
    """Lower-cased words without the language's stopwords, stemmed with its Snowball stemmer."""
    stop = _STOPWORDS.get(language, frozenset())
    words = [w for w in _WORD.findall(text.lower()) if w not in stop]
    stemmer = _stemmer(language)
    return stemmer.stemWords(words) if stemmer else words


def tokenize_query(text: str) -> list[str]:
    """Query terms: the union of the Dutch and English analyses, so either language matches."""
    seen: dict[str, None] = {}
    for language in QUERY_LANGUAGES:
        for token in tokenize(text, language):
            seen.setdefault(token, None)
    return list(seen)


class LexicalIndex:
    """A bm25s index plus the chunk id of each row."""

    def __init__(self, retriever: bm25s.BM25, chunk_ids: list[str]) -> None:
        self.retriever = retriever
        self.chunk_ids = chunk_ids

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str]]) -> LexicalIndex:
        """Index (chunk_id, text, language) rows."""
        ids: list[str] = []
        corpus: list[list[str]] = []
        for chunk_id, text, language in rows:
            ids.append(chunk_id)
            corpus.append(tokenize(text, language))
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, ids)

    def save(self, folder: Path) -> None:
        """Write atomically enough for one writer: a new folder, then a rename."""
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            _rmtree(tmp)
        tmp.mkdir(parents=True)
        if self.chunk_ids:
            self.retriever.save(str(tmp), show_progress=False)
        (tmp / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            _rmtree(old)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        chunk_ids = json.loads((folder / "chunk_ids.json").read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False) if chunk_ids else bm25s.BM25()
        return cls(retriever, chunk_ids)

    def search(self, query: str, k: int = 50) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the best `k` chunks with a positive score."""
        tokens = (
            [t for t in tokenize_query(query) if t in self.retriever.vocab_dict] if self.chunk_ids else []
        )
        if not tokens:
            return []
        k = min(k, len(self.chunk_ids))
        docs, scores = self.retriever.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [
            (self.chunk_ids[int(i)], float(s))
            for i, s in zip(docs[0], scores[0], strict=True)
            if s > 0 and np.isfinite(s)
        ]


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
