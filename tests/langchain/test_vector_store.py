"""FinderVectorStore over a library the CLI indexed: LangChain's expectations (Document
shape, k honoured, retriever invoke, relevance in 0..1) and finder's own (the same files
as `finder search`, read-only, texts of one's own in a separate collection)."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore

from finder import cli
from finder.langchain import FinderEmbeddings, FinderVectorStore

pytestmark = pytest.mark.usefixtures("finder_tiny")

METADATA = {"path", "kind", "type", "page", "score", "relevance", "match"}


@pytest.fixture
def store(indexed: tuple[Path, Path]):
    vector_store = FinderVectorStore(data_dir=indexed[1])
    yield vector_store
    vector_store.close()


def cli_search(data: Path, *args: str) -> list[dict[str, object]]:
    out, err = io.StringIO(), io.StringIO()
    assert (
        cli.main(["search", *args, "--data-dir", str(data), "--json"], stdout=out, stderr=err) == 0
    )
    return json.loads(out.getvalue())


def test_is_a_langchain_vector_store(store: FinderVectorStore) -> None:
    assert isinstance(store, VectorStore)
    assert isinstance(store.embeddings, FinderEmbeddings)


@pytest.mark.parametrize("query", ["a red circle", "tax return", "blue square"])
def test_same_top_files_as_the_cli(store: FinderVectorStore, indexed, query: str) -> None:
    docs = store.similarity_search(query, k=3)
    expected = [r["path"] for r in cli_search(indexed[1], query, "-k", "3")]
    assert [d.metadata["path"] for d in docs] == expected
    assert expected  # the comparison says something


def test_documents_have_finder_metadata(store: FinderVectorStore, indexed) -> None:
    docs = store.similarity_search("a red circle", k=10)
    assert docs and all(isinstance(d, Document) for d in docs)
    for doc in docs:
        assert set(doc.metadata) >= METADATA
        assert Path(doc.metadata["path"]).parent == indexed[0]
        assert doc.metadata["kind"] in ("photo", "document")
        assert doc.metadata["type"] == ("image" if doc.metadata["kind"] == "photo" else "text")
        assert 0.0 <= doc.metadata["relevance"] <= 1.0 and doc.metadata["match"]
        assert doc.page_content
    note = next(d for d in docs if d.metadata["path"].endswith("note.txt"))
    assert note.page_content == "a red circle drawn on a white page"
    photo = next(d for d in docs if d.metadata["kind"] == "photo")
    assert photo.page_content == Path(photo.metadata["path"]).name  # no text in it
    pdf = store.similarity_search("tax return 2023", k=3, filter={"kind": "document"})
    assert pdf[0].metadata["page"] in (1, 2)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_k_is_honoured(store: FinderVectorStore, k: int) -> None:
    assert len(store.similarity_search("a photo", k=k)) == k
    assert len(store.similarity_search_with_score("a photo", k=k)) == k


def test_kind_filter(store: FinderVectorStore) -> None:
    photos = store.similarity_search("red", k=5, filter={"kind": "photo"})
    docs = store.similarity_search("red", k=5, filter={"kind": "document"})
    assert {d.metadata["kind"] for d in photos} == {"photo"}
    assert {d.metadata["kind"] for d in docs} == {"document"}
    with pytest.raises(ValueError, match="unknown filter"):
        store.similarity_search("red", filter={"colour": "red"})


def test_library_filters(store: FinderVectorStore, indexed, tmp_path: Path) -> None:
    files = indexed[0]
    inside = store.similarity_search("red", k=3, filter={"folder": str(files)})
    assert len(inside) == 3
    assert store.similarity_search("red", k=3, filter={"folder": str(tmp_path)}) == []
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        store.similarity_search("red", filter={"after": "last tuesday"})
    with pytest.raises(ValueError, match="kind only"):
        store.similarity_search_by_image(files / "red.png", filter={"place": "Lisbon"})


def test_scores_and_relevance(store: FinderVectorStore) -> None:
    scored = store.similarity_search_with_score("a red circle", k=4)
    assert all(score == doc.metadata["score"] for doc, score in scored)
    relevance = store.similarity_search_with_relevance_scores("a red circle", k=4)
    assert [r for _, r in relevance] == sorted((r for _, r in relevance), reverse=True)
    assert all(0.0 <= r <= 1.0 for _, r in relevance)


def test_retriever_invoke(store: FinderVectorStore) -> None:
    docs = store.as_retriever(search_kwargs={"k": 2}).invoke("a red circle")
    assert len(docs) == 2 and docs[0].metadata["path"].endswith(("note.txt", "red.png"))


def test_by_vector_and_by_image(store: FinderVectorStore, indexed) -> None:
    files = indexed[0]
    embeddings = store.embeddings
    by_text = store.similarity_search_by_vector(embeddings.embed_query("a red circle"), k=3)
    assert len(by_text) == 3
    picture = embeddings.embed_image([str(files / "blue.png")])[0]
    by_picture = store.similarity_search_by_vector(picture, k=2, filter={"kind": "photo"})
    assert by_picture[0].metadata["path"] == str(files / "blue.png")
    by_image = store.similarity_search_by_image(files / "blue.png", k=2)
    assert by_image[0].metadata["path"] == str(files / "blue.png")
    expected = cli_search(indexed[1], "--image", str(files / "blue.png"), "-k", "2")
    assert [d.metadata["path"] for d in by_image] == [r["path"] for r in expected]


def test_texts_added_to_the_library_store_go_into_a_collection(
    store: FinderVectorStore, indexed
) -> None:
    data = indexed[1]
    before = _catalog_rows(data)
    ids = store.add_texts(["a note about lighthouses"], ids=["lighthouse"])
    try:
        assert ids == ["lighthouse"] and _catalog_rows(data) == before
        assert (data / "collections" / "langchain.sqlite3").is_file()
        assert store.get_by_ids(["lighthouse"])[0].page_content == "a note about lighthouses"
        found = store.similarity_search("a note about lighthouses", k=10)
        assert all(d.metadata["path"] for d in found)  # the library's files only
        default = FinderVectorStore(data_dir=data, collection_name="langchain")
        assert default.similarity_search("lighthouses", k=1)[0].id == "lighthouse"
        default.close()
    finally:
        store.delete(["lighthouse"])


def test_texts_go_into_a_separate_collection(indexed, store: FinderVectorStore) -> None:
    data = indexed[1]
    before = _catalog_rows(data)
    notes = FinderVectorStore.from_texts(
        ["lighthouse on a rocky coast", "a bowl of ramen", "quarterly sales figures"],
        metadatas=[{"topic": "sea"}, {"topic": "food"}, {"topic": "work"}],
        data_dir=data,
        collection_name="notes",
    )
    try:
        assert (data / "collections" / "notes.sqlite3").is_file()
        assert _catalog_rows(data) == before  # nothing went into the folder index
        found = notes.similarity_search("lighthouse on a rocky coast", k=1)
        assert found[0].page_content == "lighthouse on a rocky coast"
        assert found[0].metadata["topic"] == "sea" and found[0].metadata["type"] == "text"
        assert set(found[0].metadata) >= METADATA
        food = notes.similarity_search("lighthouse", k=3, filter={"topic": "food"})
        assert [d.page_content for d in food] == ["a bowl of ramen"]
        ids = notes.add_texts(["a fourth note"], ids=["four"])
        assert ids == ["four"] and notes.get_by_ids(["four"])[0].page_content == "a fourth note"
        notes.delete(["four"])
        assert notes.get_by_ids(["four"]) == []
        # The library's search never sees them.
        paths = [d.metadata["path"] for d in store.similarity_search("lighthouse", k=10)]
        assert all(p and Path(p).parent == indexed[0] for p in paths)
        reopened = FinderVectorStore(data_dir=data, collection_name="notes")
        assert len(reopened.similarity_search("ramen", k=5)) == 3
        reopened.close()
    finally:
        notes.delete()
        notes.close()


def test_collection_names_are_checked(indexed) -> None:
    with pytest.raises(ValueError, match="collection name"):
        FinderVectorStore.from_texts(["x"], data_dir=indexed[1], collection_name="../escape")


def _catalog_rows(data: Path) -> tuple[int, int]:
    with sqlite3.connect(data / "catalog.sqlite3") as db:
        items = db.execute("SELECT count(*) FROM items").fetchone()[0]
        vectors = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    return items, vectors
