"""Evaluation: BEIR-layout loading, ranking metrics, TREC run files."""
