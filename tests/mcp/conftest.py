"""The LangChain tests' indexed library (tests/langchain/conftest.py), shared."""

from __future__ import annotations

from tests.langchain.conftest import indexed as indexed
