"""Retrieval: BM25, term translation, fusion, pipelines, the hybrid retriever, calibrated relevance."""
