"""BM25 index over the same chunks as the vectors, stemmed by each chunk's language, saved beside the store."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMERS = {"nl": "dutch", "en": "english", "de": "german", "fr": "french"}
_STOPWORDS = {"nl": frozenset(STOPWORDS_DUTCH), "en": frozenset(STOPWORDS_EN)}
QUERY_LANGUAGES = ("nl", "en")  # a question is stemmed both ways: it may be asked in either language
# Words that shape a question but name nothing to look for. Dropped from queries (before both analyses, so the
# English analysis of a Dutch question does not bring "welke" or "van" back), never from the indexed text.
_QUESTION_WORDS_TEXT = """
welke welk waarom wanneer hoeveel hoelang waar waarin waarmee waarover waarvoor waardoor waarop waaraan
wij we jullie zullen gaat gaan volgens eigenlijk precies
which why when where how many much whom whose does did do can could would should please tell
"""
_QUESTION_WORDS = frozenset(_QUESTION_WORDS_TEXT.split())
_QUERY_STOPWORDS = _STOPWORDS["nl"] | _STOPWORDS["en"] | _QUESTION_WORDS


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    name = _STEMMERS.get(language)
    return Stemmer.Stemmer(name) if name else None


def _words(text: str, language: str) -> list[str]:
    stop = _STOPWORDS.get(language, frozenset())
    return [w for w in _WORD.findall(text.lower()) if w not in stop]


def tokenize(text: str, language: str, compounds: Decompounder | None = None) -> list[str]:
    """Lower-cased words without the language's stopwords, stemmed with its Snowball stemmer.

    With `compounds` (Dutch only), the parts of a compound are added after the words."""
    words = _words(text, language)
    if compounds is not None and language == "nl":
        words += compounds.parts(words)
    stemmer = _stemmer(language)
    return stemmer.stemWords(words) if stemmer else words


_PREFIXES_TEXT = "voor over onder door tegen achter samen terug open mede toe aan mee bij uit weg neer"
_SUFFIXES_TEXT = """
lijk lijke lijken baar bare heid heden schap schappen achtig achtige loos loze zaam zame matig matige
ling lingen isch ische
"""


class Decompounder:
    """Splits Dutch compounds in two words that occur on their own in the corpus.

    "kinderopvang" -> "kinder" + "opvang", "woningcorporaties" -> "woning" + "corporaties": a split is taken
    when both parts (at least 4 letters, allowing a linking "s" or "e") have stems found in at least 2 chunks
    and the geometric mean of their document frequencies beats the compound's own (Koehn & Knight's criterion).
    `df` maps Dutch stems to document frequencies."""

    MIN_WORD = 9
    MIN_PART = 4
    MIN_DF = 2
    # Not compound parts but prefixes of derived words ("voorkomen", "overheden") and derivational suffixes
    # ("tijdelijk", "openbaar", "gemeenschap"): never split on them.
    PREFIXES = frozenset(_PREFIXES_TEXT.split())
    SUFFIXES = frozenset(_SUFFIXES_TEXT.split())

    def __init__(self, df: dict[str, int]) -> None:
        self.df = df
        self._stem = _stemmer("nl").stemWord
        self._cache: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_words(cls, chunks: Iterable[list[str]]) -> Decompounder:
        """Stem document frequencies of the words of the (Dutch) chunks."""
        stem = _stemmer("nl").stemWord
        counts: dict[str, int] = {}
        for words in chunks:
            for st in {stem(w) for w in words if len(w) >= cls.MIN_PART and w.isalpha()}:
                counts[st] = counts.get(st, 0) + 1
        return cls({w: n for w, n in counts.items() if n >= cls.MIN_DF})

    def _df(self, word: str) -> int:
        return self.df.get(self._stem(word), 0) if len(word) >= self.MIN_PART else 0

    def split(self, word: str) -> tuple[str, ...]:
        """The two parts of `word`, or () when it is not a (known) compound."""
        found = self._cache.get(word)
        if found is not None:
            return found
        best: tuple[str, ...] = ()
        if len(word) >= self.MIN_WORD and word.isalpha():
            best_score = float(self._df(word))
            for i in range(self.MIN_PART, len(word) - self.MIN_PART + 1):
                head, tail = word[:i], word[i:]
                if tail in self.SUFFIXES:
                    continue
                tail_df = self._df(tail)
                if not tail_df:
                    continue
                for left in (head, head[:-1] if head.endswith(("s", "e")) else ""):
                    if left in self.PREFIXES:
                        continue
                    left_df = self._df(left)
                    score = (left_df * tail_df) ** 0.5
                    if left_df and score > best_score:
                        best, best_score = (left, tail), score
        if len(self._cache) < 200_000:
            self._cache[word] = best
        return best

    def parts(self, words: Iterable[str]) -> list[str]:
        return [p for w in words for p in self.split(w)]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.df, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Decompounder | None:
        try:
            return cls(json.loads(path.read_text()))
        except FileNotFoundError:
            return None


def tokenize_query(text: str, compounds: Decompounder | None = None) -> list[str]:
    """Query terms: the union of the Dutch and English analyses, so either language matches.

    Stopwords of either language and question words are dropped first; if nothing is left (a query of only
    such words), the plain per-language analysis is used."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _QUERY_STOPWORDS]
    if compounds is not None:
        words += compounds.parts(words)
    seen: dict[str, None] = {}
    for language in QUERY_LANGUAGES:
        stemmer = _stemmer(language)
        for token in stemmer.stemWords(words) if stemmer else words:
            seen.setdefault(token, None)
    if not seen:
        for language in QUERY_LANGUAGES:
            for token in tokenize(text, language):
                seen.setdefault(token, None)
    return list(seen)


LEXICAL_VERSION = 2  # bump when indexing changes; an index saved by another version should be rebuilt


class LexicalIndexError(RuntimeError):
    """A saved BM25 index that cannot be used (missing, half-written, another version): rebuild it."""


class LexicalIndex:
    """A bm25s index plus the chunk id of each row, and the catalog fingerprint it was built from."""

    def __init__(
        self,
        retriever: bm25s.BM25,
        chunk_ids: list[str],
        compounds: Decompounder | None = None,
        fingerprint: str = "",
    ) -> None:
        self.retriever = retriever
        self.chunk_ids = chunk_ids
        self.compounds = compounds
        self.fingerprint = fingerprint  # `Catalog.fingerprint()` of the chunks it holds ("" = unknown)
        self._row_of: dict[str, int] | None = None

    @classmethod
    def build(
        cls, rows: Iterable[tuple[str, str, str]], split_compounds: bool = True, fingerprint: str = ""
    ) -> LexicalIndex:
        """Index (chunk_id, text, language) rows; Dutch compounds also count as their parts."""
        ids: list[str] = []
        analysed: list[tuple[list[str], str]] = []
        for chunk_id, text, language in rows:
            ids.append(chunk_id)
            analysed.append((_words(text, language), language))
        compounds = (
            Decompounder.from_words(w for w, lang in analysed if lang == "nl") if split_compounds else None
        )
        if compounds is not None and not compounds.df:
            compounds = None
        corpus: list[list[str]] = []
        for words, language in analysed:
            if compounds is not None and language == "nl":
                words = words + compounds.parts(words)
            stemmer = _stemmer(language)
            corpus.append(stemmer.stemWords(words) if stemmer else words)
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, ids, compounds, fingerprint)

    def _write(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        if self.chunk_ids:
            self.retriever.save(str(folder), show_progress=False)
        (folder / "chunk_ids.json").write_text(json.dumps(self.chunk_ids))
        (folder / "fingerprint").write_text(self.fingerprint)
        if self.compounds is not None:
            self.compounds.save(folder / "compounds.json")
        (folder / "version").write_text(str(LEXICAL_VERSION))  # last: a folder without it is incomplete

    def save(self, folder: Path) -> None:
        """Write atomically enough for one writer: a new folder, then a rename. A reader finding no folder,
        a half-written one or another version rebuilds from the catalog (see `Store`)."""
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            _rmtree(tmp)
        self._write(tmp)
        old = folder.with_name(folder.name + ".old")
        if old.exists():
            _rmtree(old)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            _rmtree(old)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """The index saved in `folder`; LexicalIndexError when it is missing, incomplete or of another version."""
        if not cls.is_current(folder):
            raise LexicalIndexError(f"no current BM25 index in {folder}")
        try:
            chunk_ids = json.loads((folder / "chunk_ids.json").read_text())
            retriever = bm25s.BM25.load(str(folder), show_progress=False) if chunk_ids else bm25s.BM25()
            fingerprint_file = folder / "fingerprint"
            fingerprint = fingerprint_file.read_text() if fingerprint_file.exists() else ""
        except (OSError, ValueError, KeyError) as exc:
            raise LexicalIndexError(f"unreadable BM25 index in {folder}: {exc}") from exc
        return cls(retriever, chunk_ids, Decompounder.load(folder / "compounds.json"), fingerprint)

    def to_bytes(self) -> bytes:
        """The saved index as one zip archive (for a database column)."""
        import io
        import tempfile
        import zipfile

        with tempfile.TemporaryDirectory(prefix="openbaar-bm25-") as tmp:
            folder = Path(tmp) / "index"
            self._write(folder)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                for path in sorted(folder.iterdir()):
                    archive.write(path, path.name)
            return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LexicalIndex:
        """An index from `to_bytes()`; LexicalIndexError when the archive is not a current index."""
        import io
        import tempfile
        import zipfile

        with tempfile.TemporaryDirectory(prefix="openbaar-bm25-") as tmp:
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    archive.extractall(tmp)
            except (zipfile.BadZipFile, OSError) as exc:
                raise LexicalIndexError(f"unreadable BM25 index archive: {exc}") from exc
            return cls.load(Path(tmp))

    @staticmethod
    def is_current(folder: Path) -> bool:
        """Whether the index in `folder` was written completely by this version of the code."""
        try:
            return (folder / "version").read_text().strip() == str(LEXICAL_VERSION)
        except (FileNotFoundError, NotADirectoryError):
            return False

    def search(self, query: str, k: int = 50, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk_id, BM25 score) of the best `k` chunks with a positive score.

        `mask` (optional, one bool per row in `chunk_ids` order) keeps only the rows where it is True, before
        the top `k` are taken, so a restrictive filter still gets `k` candidates."""
        if not self.chunk_ids:
            return []
        ids = self.retriever.get_tokens_ids(tokenize_query(query, self.compounds))
        if not ids:
            return []
        scores = self.retriever.get_scores_from_ids(ids)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            (self.chunk_ids[int(i)], float(scores[i]))
            for i in top
            if scores[i] > 0 and np.isfinite(scores[i])
        ]

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency (BM25's, over chunks) of each analysed token that the index knows."""
        if not self.chunk_ids:
            return {}
        vocab = self.retriever.vocab_dict
        indptr = self.retriever.scores["indptr"]
        n = len(self.chunk_ids)
        out: dict[str, float] = {}
        for token in tokens:
            i = vocab.get(token)
            if i is None or i + 1 >= len(indptr):
                continue
            df = int(indptr[i + 1] - indptr[i])
            out[token] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return out

    @property
    def max_idf(self) -> float:
        """The IDF of a token found in one chunk (what an unknown, rare word is worth)."""
        n = len(self.chunk_ids)
        return float(np.log(1.0 + (n - 0.5) / 1.5)) if n else 0.0

    @property
    def row_of(self) -> dict[str, int]:
        """chunk_id -> row number (built once per loaded index)."""
        if self._row_of is None:
            self._row_of = {c: i for i, c in enumerate(self.chunk_ids)}
        return self._row_of


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
