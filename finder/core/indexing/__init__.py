"""Bringing the store up to date with the folders: the indexer, the OCR pass, the watcher."""
