"""Keyword index (FTS5), hybrid search, PDF pages as pictures, OCR, more document kinds.

(Fusion and keyword parsing alone: tests/core/search.)
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from finder.core.ingest.extract import read_document, render_pdf_pages
from finder.core.library import Library
from finder.core.search import search as search_module
from finder.core.types import SearchKind
from tests.helpers import draw_photo, write_encrypted_pdf, write_pdf, write_text

# -- with the tiny (random) model -------------------------------------------------------------


def _text_picture(
    words: list[str], size: tuple[int, int] = (640, 400), seed: int = 0
) -> Image.Image:
    """Dark words on a light, noisy background (a photo of a note)."""
    rnd = random.Random(seed)
    img = Image.new("RGB", size, (205, 200, 185))
    draw = ImageDraw.Draw(img)
    for _ in range(4000):
        shade = rnd.randrange(120, 256)
        draw.point((rnd.randrange(size[0]), rnd.randrange(size[1])), fill=(shade,) * 3)
    font = ImageFont.load_default(size=42)
    for i, line in enumerate(words):
        draw.text((30, 60 + i * 90), line, font=font, fill=(20, 20, 30))
    return img


@pytest.fixture
def docs(library: Library, tmp_path: Path) -> Path:
    root = tmp_path / "Documents"
    write_pdf(
        root / "report.pdf",
        [
            "Quarterly results for the northern region",
            "Revenue grew in the harbour district " * 3,
            "Appendix with tables",
        ],
    )
    write_pdf(root / "manual.pdf", ["How to assemble the bookshelf"])
    write_text(root / "invoice_4471.txt", "Invoice 4471 from Walrus Ltd, total 120 EUR")
    write_text(root / "other.txt", "Invoice 4470 from Penguin plc, total 80 EUR")
    write_text(root / "notes.md", "meeting notes about the garden")
    draw_photo(root / "red.png", "red")
    library.add_folder(root)
    report = library._indexer.run()
    assert not report.errors
    return root


def test_a_screenshot_of_a_page_finds_that_pdf_and_page(
    docs: Library, library: Library, tmp_path: Path
) -> None:
    # A screenshot of page 2: the page drawn larger, then cropped at its edges.
    [(_, page)] = render_pdf_pages(docs / "report.pdf", [2], side=900)
    shot = page.crop((8, 8, page.width - 8, page.height - 8)).resize((500, 640))
    results = library._search.image(shot, SearchKind.DOCS, k=5)
    assert Path(results[0].path).name == "report.pdf"
    assert results[0].page == 2
    assert results[0].signals[0] == "page image"
    assert results[0].score > 0.95  # the page picture, even for a random model
    # Photo searches show photos only, never page pictures.
    photos = library._search.image(shot, SearchKind.PHOTOS, k=5)
    assert [Path(r.path).name for r in photos] == ["red.png"]
    everything = library._search.image(shot, SearchKind.ALL, k=10)
    assert Path(everything[0].path).name == "report.pdf" and everything[0].page == 2


def test_a_word_in_most_rows_is_looked_up_in_names_only(
    docs: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = library._catalog.keyword_rows_holding(
        [("invoice", False), ("walr", True), ("zzz", False)]
    )
    assert held[("invoice", False)] == (3, 1)  # two bodies, one file name
    assert held[("walr", True)] == (1, 0) and held[("zzz", False)] == (0, 0)
    monkeypatch.setattr(search_module, "COMMON_WORD_ROWS", 2)
    # "invoice" is now common: the file named after it is ranked, the other file that
    # holds it comes after, unranked; a file holding every word comes first.
    names = [Path(r.path).name for r in library._search.keyword("invoice", SearchKind.ALL)]
    assert names == ["invoice_4471.txt", "other.txt"]
    both = [Path(r.path).name for r in library._search.keyword("invoice penguin")]
    assert both[0] == "other.txt"


def test_numbers_and_names_match_by_keyword(docs: Path, library: Library) -> None:
    for kind in (SearchKind.DOCS, SearchKind.ALL):
        results = library._search.text("invoice 4471", kind, k=5)
        top = results[0]
        assert Path(top.path).name == "invoice_4471.txt"
        assert top.matched_terms == ("invoice", "4471") and "keyword" in top.signals
    harbour = library._search.text("harbour district", SearchKind.DOCS, k=3)[0]
    assert Path(harbour.path).name == "report.pdf" and harbour.page == 2
    assert "harbour" in (harbour.snippet or "").lower()
    # Exact phrases, and the model-free fallback.
    phrase = library._search.keyword('"Penguin plc"', SearchKind.ALL, k=5)
    assert [Path(r.path).name for r in phrase] == ["other.txt"]
    assert [Path(r.path).name for r in library._search.keyword("Documents notes")][:1] == [
        "notes.md"
    ]  # folder names count, and the file whose text matches comes first
    as_json = top.to_json()
    assert as_json["matched_terms"] == ["invoice", "4471"] and "keyword" in as_json["signals"]


def test_the_keyword_index_follows_edits_moves_and_deletes(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "notes"
    write_text(root / "a.txt", "alpha walrus")
    write_text(root / "keep.txt", "something else")
    library.add_folder(root)
    library._indexer.run()

    def names(query: str) -> list[str]:
        return [Path(r.path).name for r in library._search.keyword(query)]

    def consistent() -> None:
        rows = library._catalog.fts_rows()
        items = library._catalog.item_ids_of_files(
            f.id for f in library._catalog.files_under(library._catalog.roots()[0].id).values()
        )
        assert sorted(rows) == sorted(items)

    assert names("walrus") == ["a.txt"]
    write_text(root / "a.txt", "beta narwhal, now longer")
    library._indexer.run()
    assert names("walrus") == [] and names("narwhal") == ["a.txt"]
    consistent()
    (root / "sub").mkdir()
    shutil.move(root / "a.txt", root / "sub" / "renamed.txt")
    library._indexer.run()
    assert names("narwhal") == ["renamed.txt"] and names("sub") == ["renamed.txt"]
    consistent()
    (root / "sub" / "renamed.txt").unlink()
    library._indexer.run()
    assert names("narwhal") == []
    consistent()
    library.remove_folder(root)
    assert library._catalog.fts_rows() == {}


def test_text_in_photos_and_scanned_pdfs_is_found_by_ocr(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Pictures"
    root.mkdir()
    _text_picture(["Walrus lighthouse", "ticket 5823"]).save(root / "note.jpg", quality=90)
    draw_photo(root / "circle.png", "blue")
    # (PP-OCR sometimes reads a small word gap as none: one word a line here.)
    _text_picture(["Harbour", "survey", "scanned"], size=(600, 800), seed=1).save(
        root / "scan.pdf"
    )  # an image-only PDF: no text layer
    write_encrypted_pdf(root / "secret.pdf", "hidden words")
    library.add_folder(root)
    report = library._indexer.run()
    assert [(Path(e.path).name, e.reason) for e in report.errors] == [
        ("secret.pdf", "encrypted PDF (a password is needed)")
    ]
    assert library._search.keyword("walrus") == []  # not read yet

    ocr = library.read_text_in_images()
    assert ocr.looked_at == 3 and ocr.with_text == 2
    states = {
        name: library._catalog.ocr_state(str(root / name))
        for name in ("note.jpg", "circle.png", "scan.pdf")
    }
    assert states == {"note.jpg": "text", "circle.png": "none", "scan.pdf": "text"}
    note = library._search.text("walrus lighthouse", SearchKind.PHOTOS, k=3)[0]
    assert Path(note.path).name == "note.jpg" and note.matched_terms == ("walrus", "lighthouse")
    scan = library._search.text("harbour survey", SearchKind.DOCS, k=3)[0]
    assert Path(scan.path).name == "scan.pdf" and scan.page == 1
    assert library.read_text_in_images().looked_at == 0  # done once, not repeated
    # A dropped picture of the note finds it by the words read in it, too.
    dropped = library._search.image(_text_picture(["ticket", "5823"], seed=7), SearchKind.ALL, k=3)
    assert Path(dropped[0].path).name == "note.jpg" and "5823" in dropped[0].matched_terms
    # The app shows the picture's own matches first, then the list with its words fused in.
    first, final = library._search.image_stages(
        _text_picture(["ticket", "5823"], seed=7), SearchKind.ALL, 3
    )
    assert all(not r.matched_terms for r in first) and final == dropped
    assert len(list(library._search.image_stages(root / "circle.png"))) == 1  # no text


# -- more document kinds ---------------------------------------------------------------------


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return path


def test_a_query_picture_is_read_tallest_lines_first() -> None:
    from finder.core.ingest.ocr import Ocr

    page = Image.new("RGB", (900, 500), "white")
    draw = ImageDraw.Draw(page)
    draw.text((30, 20), "WALRUS", font=ImageFont.load_default(size=72), fill="black")
    for i in range(6):
        draw.text(
            (30, 150 + 45 * i),
            f"small print line {i}",
            font=ImageFont.load_default(size=26),
            fill="black",
        )
    ocr = Ocr()
    assert ocr.read(page, max_lines=1).strip().lower() == "walrus"  # the heading only
    everything = ocr.read(page).lower()
    assert "walrus" in everything and "print" in everything


def test_pptx_odt_and_rtf_are_read(tmp_path: Path) -> None:
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    slide = '<p:sld xmlns:p="x" xmlns:a="{a}"><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:sld>'
    pptx = _zip(
        tmp_path / "deck.pptx",
        {
            "ppt/slides/slide2.xml": slide.format(a=a, t="Second slide: budget"),
            "ppt/slides/slide1.xml": slide.format(a=a, t="Title slide"),
        },
    )
    assert [(p.page, p.text) for p in read_document(pptx)] == [
        (1, "Title slide"),
        (2, "Second slide: budget"),
    ]
    t = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    odt = _zip(
        tmp_path / "letter.odt",
        {
            "content.xml": (
                f'<office:document-content xmlns:office="o" xmlns:text="{t}"><office:body>'
                "<text:h>Dear reader</text:h>"
                "<text:p>The <text:span>garden</text:span> party</text:p>"
                "</office:body></office:document-content>"
            )
        },
    )
    assert [p.text for p in read_document(odt)] == ["Dear reader The garden party"]
    rtf = write_text(tmp_path / "memo.rtf", r"{\rtf1\ansi\f0 Memo about {\b tulips}.\par}")
    assert [p.text for p in read_document(rtf)] == ["Memo about tulips."]


def test_loading_ocr_leaves_qt_settings_alone() -> None:
    # opencv-python sets QT_QPA_PLATFORM_PLUGIN_PATH to its own Qt5 plugins on import,
    # which would break the app's Qt 6 (and programs it opens) on a desktop.
    script = (
        "import os; from PIL import Image; from finder.core.ingest.ocr import Ocr; "
        "Ocr().has_text(Image.new('RGB', (40, 40))); "
        "print(os.environ.get('QT_QPA_PLATFORM_PLUGIN_PATH'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM_PLUGIN_PATH"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["None"]


def test_pdfs_indexed_before_page_pictures_get_them_on_the_next_run(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "docs"
    write_pdf(root / "old.pdf", ["first page", "second page"])
    write_text(root / "plain.txt", "nothing to redo")
    library.add_folder(root)
    library._indexer.run()
    with library._catalog.transaction() as tx:  # as a version 3 catalog had it
        tx.execute("DELETE FROM items WHERE modality = 'image'")
        tx.execute("PRAGMA user_version = 3")
    library._catalog.close()
    again = Library(library.data_dir, library.embedder, writable=False)  # migrates to v4
    again.close()
    report = library._indexer.run()
    assert (report.updated, report.unchanged) == (1, 1)
    shot = render_pdf_pages(root / "old.pdf", [2])[0][1]
    assert library._search.image(shot, SearchKind.DOCS, k=1)[0].page == 2
