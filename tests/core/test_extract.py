from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from finder.core.ingest.extract import (
    MAX_PASSAGES,
    MAX_TEXT_BYTES,
    ExtractError,
    chunk_text,
    kind_of,
    load_image,
    read_document,
)
from finder.core.types import FileKind
from tests.helpers import draw_photo, write_docx, write_encrypted_pdf, write_pdf, write_text


def test_kinds_by_suffix() -> None:
    assert kind_of(Path("a.JPG")) is FileKind.PHOTO
    assert kind_of(Path("a.webp")) is FileKind.PHOTO
    assert kind_of(Path("a.pdf")) is FileKind.DOCUMENT
    assert kind_of(Path("a.md")) is FileKind.DOCUMENT
    assert kind_of(Path("a.exe")) is None
    assert kind_of(Path("Makefile")) is None


def test_jpeg_is_decoded_at_reduced_size(tmp_path: Path) -> None:
    path = draw_photo(tmp_path / "big.jpg", size=(4000, 3000))
    img = load_image(path, size=256)
    assert img.mode == "RGB"
    assert 256 <= min(img.size) <= 512
    assert img.size[0] > img.size[1]  # aspect kept


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (400, 200), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    img.save(tmp_path / "rotated.jpg", exif=exif)
    width, height = load_image(tmp_path / "rotated.jpg").size
    assert width < height


def test_transparent_png_and_gif_first_frame(tmp_path: Path) -> None:
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png").getpixel((5, 5)) == (255, 255, 255)
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    r, g, b = load_image(tmp_path / "anim.gif").getpixel((1, 1))
    assert r > 200 and b < 50


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"\xff\xd8\xff\xe0 this is no jpeg", "corrupt or truncated"),
        (b"just some text", "not a readable image"),
    ],
)
def test_corrupt_images_raise_a_readable_error(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "bad.jpg").write_bytes(content)
    with pytest.raises(ExtractError, match=reason):
        load_image(tmp_path / "bad.jpg")


def test_truncated_jpeg_is_an_error(tmp_path: Path) -> None:
    path = draw_photo(tmp_path / "whole.jpg", size=(800, 600))
    data = path.read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.jpg")


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    # 20000 x 20000 pixels of one colour compress to a small PNG.
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")
    with pytest.raises(ExtractError, match="too large"):
        load_image(tmp_path / "bomb.png")


def test_chunks_overlap_and_fit_the_context() -> None:
    words = [f"w{i}" for i in range(100)]
    chunks = chunk_text(" ".join(words), words=40, overlap=10)
    assert chunks[0].split()[-10:] == chunks[1].split()[:10]
    assert all(len(c.split()) <= 40 for c in chunks)
    assert chunks[-1].split()[-1] == "w99"
    assert chunk_text("   \n ") == []


def test_text_markdown_html_docx(tmp_path: Path) -> None:
    txt = read_document(write_text(tmp_path / "a.txt", "the hardware store receipt"))
    assert txt[0].text == "the hardware store receipt" and txt[0].page is None
    html = read_document(
        write_text(
            tmp_path / "a.html", "<html><script>var x;</script><p>sunset over the sea</p></html>"
        )
    )
    assert [p.text for p in html] == ["sunset over the sea"]
    docx = read_document(write_docx(tmp_path / "a.docx", ["tax return", "2023"]))
    assert "tax return" in docx[0].text and "2023" in docx[0].text


def test_pdf_text_per_page(tmp_path: Path) -> None:
    passages = read_document(write_pdf(tmp_path / "a.pdf", ["invoice 4471", "", "page three"]))
    assert [(p.page, p.text) for p in passages] == [(1, "invoice 4471"), (3, "page three")]


def test_encrypted_and_broken_pdfs(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="encrypted PDF"):
        read_document(write_encrypted_pdf(tmp_path / "locked.pdf", "secret"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    with pytest.raises(ExtractError, match="PDF"):
        read_document(tmp_path / "broken.pdf")


def test_binary_file_named_txt_and_huge_text_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(ExtractError, match="binary"):
        read_document(tmp_path / "bin.txt")
    big = tmp_path / "big.txt"
    big.write_text("word " * (MAX_TEXT_BYTES // 2))  # 2.5x the limit
    passages = read_document(big)
    assert 0 < len(passages) <= MAX_PASSAGES


def test_pdfs_read_from_many_threads_at_once(tmp_path: Path) -> None:
    # PDFium crashes the process when called from two threads at once (even on other
    # documents); the indexer's decode pool and the thumbnail pool do exactly that.
    from concurrent.futures import ThreadPoolExecutor

    from finder.core.ingest.extract import render_pdf_pages
    from finder.core.ingest.thumbnails import ThumbnailCache

    pdfs = [
        write_pdf(tmp_path / f"doc{i}.pdf", [f"page {n} of {i}" for n in range(1, 31)])
        for i in range(12)
    ]
    thumbnails = ThumbnailCache(tmp_path / "thumbs", size=64)

    def work(path: Path) -> int:
        passages = read_document(path)
        pictures = render_pdf_pages(path, range(1, 31), side=48)
        assert thumbnails.get(str(path), 2) is not None
        return len(passages) + len(pictures)

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(work, pdfs * 4))
    assert counts == [60] * 48
