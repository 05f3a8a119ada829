"""Answering queries: retrieval per signal, fusion, relevance, model comparison."""
