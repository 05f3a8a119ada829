"""finder as a LangChain integration (the `finder[langchain]` extra, on langchain-core):
`FinderEmbeddings` runs finder's model the way the indexer does, `FinderVectorStore`
searches the user's finder library (read-only) or a named collection of texts of one's
own, kept in the data dir apart from the folder index."""

from __future__ import annotations

from finder.langchain.embeddings import FinderEmbeddings
from finder.langchain.vector_store import FinderVectorStore

__all__ = ["FinderEmbeddings", "FinderVectorStore"]
