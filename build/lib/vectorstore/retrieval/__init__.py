"""Hybrid retrieval over the store: BM25 and dense candidates, metadata filters, fusion, near-duplicate collapse."""
