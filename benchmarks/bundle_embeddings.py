"""Write the precomputed embeddings of a folder's documents into FOLDER/.openbaar-embeddings.npz (`make sample-embeddings`).

    .venv/bin/python benchmarks/bundle_embeddings.py samples/

`openbaar ingest FOLDER` loads that file into the embedding cache first, so the bundled samples are ingested without
embedding anything. Vectors come from the embedding cache (computed when missing) and are stored as float16. Run it
again when the samples, the chunking, the sentence splitting or the embedder change.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()

    from assistant.factory import cached_embedder
    from assistant.settings import Settings
    from ingestion.bundle import bundle_folder

    settings = Settings()
    embedder = cached_embedder(settings)
    target, n = bundle_folder(args.folder, settings.ingest_config(), embedder)
    print(f"{target}: {n} vectors of {embedder.model_id}, {target.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
