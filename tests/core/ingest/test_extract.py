from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageFile

from finder.core.ingest.extract import (
    MAX_ASPECT_RATIO,
    MAX_IMAGE_PIXELS,
    MAX_PASSAGES,
    MAX_TEXT_BYTES,
    MAX_WORD_CHARS,
    PASSAGE_CHARS,
    ExtractError,
    check_dimensions,
    chunk_text,
    kind_of,
    load_image,
    read_document,
)
from finder.core.types import FileKind
from tests.core.ingest.bounded import finishes
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
    # Pillow refuses it first (over twice its limit): the reason still gives finder's.
    with pytest.raises(ExtractError, match="the limit is 100 megapixels"):
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


# -- bounded: refused before decoding, linear in the input ------------------------------


def _blank_png(path: Path, width: int, height: int) -> Path:
    """A one-colour RGB PNG compressed as it is written (a few hundred KB for 99 MP)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\0" + bytes(width * 3)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_an_absurdly_elongated_image_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 9,900,000 x 10 is 99 MP (under the pixel limit) in 280 KB: it took 7.2 GB and 32 s.
    path = _blank_png(tmp_path / "strip.png", 9_900_000, 10)
    assert path.stat().st_size < 1 << 20

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ExtractError, match=r"too elongated .*9900000x10 pixels.*50:1"):
        load_image(path)


def test_panoramas_are_kept(tmp_path: Path) -> None:
    Image.new("RGB", (20_000, 1000), "navy").save(tmp_path / "pano.jpg")
    img = load_image(tmp_path / "pano.jpg")
    assert img.width > 10 * img.height and min(img.size) >= 256


def test_the_pixel_limit_is_the_readme_s_100_megapixels() -> None:
    assert MAX_IMAGE_PIXELS == 100_000_000 and Image.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS
    check_dimensions(10_000, 10_000)
    check_dimensions(20_000, 1000)
    with pytest.raises(ExtractError, match="the limit is 100 megapixels"):
        check_dimensions(10_000, 10_001)
    with pytest.raises(ExtractError, match="elongated"):
        check_dimensions(1000, 1000 * MAX_ASPECT_RATIO + 1)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L", "1", "CMYK", "I;16"])
def test_large_images_of_every_mode_come_out_small_rgb(tmp_path: Path, mode: str) -> None:
    source = Image.new("RGB", (3000, 2000), (10, 200, 30)).convert(mode)
    suffix = ".tif" if mode == "CMYK" else ".png"
    source.save(tmp_path / f"big{suffix}")
    img = load_image(tmp_path / f"big{suffix}", size=256)
    assert img.mode == "RGB" and 512 <= min(img.size) < 1024 and img.width > img.height


def test_long_words_make_bounded_passages() -> None:
    # One 60,000-letter "word" was one passage, and BPE on it quadratic (136 s to index).
    word = "".join(chr(ord("a") + i % 26) for i in range(60_000))
    passages = chunk_text(f"start {word} end")
    assert all(len(p) <= PASSAGE_CHARS for p in passages)
    assert all(len(w) <= MAX_WORD_CHARS for p in passages for w in p.split())
    assert passages[0].startswith("start ") and passages[-1].endswith(" end")
    pieces = [w for w in " ".join(passages).split() if w not in ("start", "end")]
    assert word.startswith(pieces[0]) and word.endswith(pieces[-1])


def test_ordinary_prose_is_chunked_as_before() -> None:
    words = [f"word{i}" for i in range(1000)]
    chunks = chunk_text(" ".join(words))
    assert [len(c.split()) for c in chunks[:-1]] == [40] * (len(chunks) - 1)
    assert [c.split()[0] for c in chunks[:3]] == ["word0", "word30", "word60"]
    assert len(chunk_text(" ".join(words), limit=5)) == 5


def test_a_long_word_file_reads_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "word.txt"
    path.write_text("".join(chr(ord("a") + (i * 7) % 26) for i in range(1_000_000)))
    passages = finishes(lambda: read_document(path))
    assert 0 < len(passages) <= MAX_PASSAGES
    assert max(len(p.text) for p in passages) <= PASSAGE_CHARS
