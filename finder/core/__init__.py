"""Headless core of finder. Nothing in this package may import Qt."""
