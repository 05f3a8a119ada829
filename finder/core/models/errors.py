"""The models layer's error a front end shows as is (its own module: spec.py and
model_folder.py both raise it, and spec.py reads model folders)."""

from __future__ import annotations


class ModelUnavailableError(Exception):
    """The model cannot be loaded; the message says which, where we looked and what to do."""
