from __future__ import annotations

import random
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from finder.core.ingest import office
from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractError
from finder.core.ingest.extract import MAX_PASSAGES, read_document
from finder.core.ingest.office import docx_text, odf_text, pptx_slides
from tests.core.ingest.bounded import finishes

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
TEXT = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'


def zipped(path: Path, members: dict[str, str | list[str]]) -> Path:
    """A zip whose members are written streaming (a list is written piece by piece)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            with archive.open(name, "w", force_zip64=True) as f:
                for piece in [content] if isinstance(content, str) else content:
                    f.write(piece.encode())
    return path


def docx(path: Path, paragraphs: list[str]) -> Path:
    body = [f"<w:document {W}><w:body>"]
    body += [f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs]
    return zipped(path, {"word/document.xml": [*body, "</w:body></w:document>"]})


def slide(text: str) -> str:
    return f"<p:sld {A} xmlns:p='p'><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:sld>"


def test_docx_paragraphs_tables_and_nesting(tmp_path: Path) -> None:
    xml = (
        f"<w:document {W}><w:body><w:p><w:r><w:t>tax </w:t></w:r><w:r><w:t>return</w:t>"
        "</w:r></w:p><w:p/><w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc>"
        "</w:tr></w:tbl><w:p><w:r><w:t>2023</w:t></w:r></w:p></w:body></w:document>"
    )
    path = zipped(tmp_path / "a.docx", {"word/document.xml": xml})
    assert docx_text(path, Budget()) == "tax return\ncell\n2023"


def test_pptx_slides_in_number_order(tmp_path: Path) -> None:
    members = {f"ppt/slides/slide{n}.xml": slide(f"slide {n}") for n in (10, 2, 1)}
    members["ppt/slides/_rels/slide1.xml.rels"] = "<x/>"
    path = zipped(tmp_path / "a.pptx", members)
    assert pptx_slides(path, Budget()) == [(1, "slide 1"), (2, "slide 2"), (10, "slide 10")]


def test_odf_paragraphs_and_headings(tmp_path: Path) -> None:
    xml = (
        f"<office:document-content {TEXT} xmlns:office='o'><office:body><text:h>Title</text:h>"
        "<text:p>Hello <text:span>big</text:span>  world</text:p><text:p/></office:body>"
        "</office:document-content>"
    )
    path = zipped(tmp_path / "a.odt", {"content.xml": xml})
    assert odf_text(path, Budget()) == "Title\nHello big world"


def test_a_pptx_is_opened_once_whatever_its_slides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each slide reopened the archive: 1000/2000/3000 slides took 9.5/34/85 s.
    members = {f"ppt/slides/slide{n}.xml": slide(f"slide {n}") for n in range(1, 3001)}
    path = zipped(tmp_path / "deck.pptx", members)
    opened = []
    real = zipfile.ZipFile

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", counting)
    passages = finishes(lambda: read_document(path))
    assert len(opened) == 1
    assert [p.page for p in passages[:3]] == [1, 2, 3]
    assert passages[-1].page == len(passages) == MAX_PASSAGES  # one passage a slide, capped


def test_a_zip_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    # 200 MB of XML in a few hundred KB: parsing it whole took 2.8 GB and a minute.
    path = docx(tmp_path / "bomb.docx", ["lorem ipsum dolor sit amet"] * 3_500_000)
    with pytest.raises(ExtractError, match="too large to read"):
        finishes(lambda: read_document(path), within_s=5)


def test_a_highly_compressed_member_is_refused(tmp_path: Path) -> None:
    path = docx(tmp_path / "packed.docx", ["lorem ipsum dolor sit amet"] * 200_000)  # 12 MB
    with pytest.raises(ExtractError, match="zip bomb"):
        read_document(path)


def test_xml_is_parsed_streaming_in_bounded_memory(tmp_path: Path) -> None:
    rng = random.Random(3)
    words = [f"w{rng.randrange(10**6)}" for _ in range(1000)]
    paragraphs = [" ".join(rng.choices(words, k=12)) for _ in range(150_000)]  # ~20 MB XML
    path = docx(tmp_path / "big.docx", paragraphs)
    tracemalloc.start()
    try:
        text = docx_text(path, Budget(max_chars=500_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 400_000 < len(text.replace("\n", "")) <= 500_000
    assert peak < 40 << 20  # the whole tree of 20 MB of XML is several times that


def test_the_xml_allowance_is_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_XML_BYTES", 1 << 20)
    members = {f"ppt/slides/slide{n}.xml": slide("x" * 400_000) for n in (1, 2, 3)}
    path = zipped(tmp_path / "a.pptx", members)
    with pytest.raises(ExtractError, match="too large to read"):
        pptx_slides(path, Budget())


def test_a_header_that_understates_the_xml_is_caught_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = docx(tmp_path / "a.docx", ["some words"] * 50_000)
    monkeypatch.setattr(office, "_refuse_bombs", lambda info, allowed: None)  # believe it
    monkeypatch.setattr(office, "MAX_XML_BYTES", 100_000)
    with pytest.raises(ExtractError, match="too much XML"):
        docx_text(path, Budget())


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".odt"])
def test_broken_archives_are_reasons(tmp_path: Path, suffix: str) -> None:
    (tmp_path / f"noise{suffix}").write_bytes(random.Random(1).randbytes(4096))
    with pytest.raises(ExtractError, match="not a readable"):
        read_document(tmp_path / f"noise{suffix}")
    bad_xml = {
        "word/document.xml": "<w:document",
        "content.xml": "<x",
        "ppt/slides/slide1.xml": "<",
    }
    with pytest.raises(ExtractError, match="not a readable"):
        read_document(zipped(tmp_path / f"bad{suffix}", bad_xml))
    empty = zipped(tmp_path / f"empty{suffix}", {"other.xml": "<x/>"})
    if suffix == ".pptx":
        assert read_document(empty) == []  # no slides, no text
    else:
        with pytest.raises(ExtractError, match="not a readable"):
            read_document(empty)


def test_one_huge_paragraph_is_not_held_whole(tmp_path: Path) -> None:
    rng = random.Random(4)
    runs = [f"<w:r><w:t>{rng.randrange(16**6):06x}</w:t></w:r>" for _ in range(200_000)]
    body = [f"<w:document {W}><w:body><w:p>", *runs, "</w:p></w:body></w:document>"]
    path = zipped(tmp_path / "one.docx", {"word/document.xml": body})  # 5.6 MB of XML
    tracemalloc.start()
    try:
        text = docx_text(path, Budget(seconds=120))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) == 6 * 200_000
    assert peak < 20 << 20  # its 400,000 elements held at once take several times that
