"""Test data made on the spot: images drawn with Pillow, documents written as files."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from finder.core.library import Library
from finder.core.models.switching import ModelChoice, begin_switch
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import Passage

TINY_CONFIG = Path(__file__).parent / "models" / "tiny-random.json"
TINY24_CONFIG = Path(__file__).parent / "models" / "tiny-random-24.json"  # 24-d embeddings


def draw_photo(
    path: Path, color: str = "red", size: tuple[int, int] = (320, 240), shape: str = "circle"
) -> Path:
    """A simple picture: a coloured shape on a light background."""
    img = Image.new("RGB", size, (235, 235, 225))
    draw = ImageDraw.Draw(img)
    w, h = size
    box = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    if shape == "circle":
        draw.ellipse(box, fill=color)
    else:
        draw.rectangle(box, fill=color)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_pdf(path: Path, pages: Sequence[str]) -> Path:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 50 700 Td ({escaped}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_ids[i] + 1} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def write_encrypted_pdf(path: Path, text: str, password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(path.with_suffix(".plain.tmp"), [text])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    with open(path, "wb") as f:
        writer.write(f)
    plain.unlink()
    return path


def write_docx(path: Path, paragraphs: Sequence[str]) -> Path:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>'
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", xml)
    return path


def passages_text(passages: Sequence[Passage]) -> str:
    return " ".join(p.text for p in passages)


def index_with_two_models(
    data_dir: Path, folder: Path, first: ClipEmbedder, second: ClipEmbedder
) -> None:
    """Index `folder` with `first`, give every file `second`'s vectors in its own index,
    and switch back: `first` is active, both indexes are complete, models.json knows both."""
    library = Library(data_dir, first, writable=True, ocr=False)
    try:
        library.add_folder(folder)
        library._indexer.run()
        a, b = ModelChoice.of(first.spec), ModelChoice.of(second.spec)
        begin_switch(data_dir, library._catalog, a, b)
        library.embed_with(second)  # complete: b takes over
        begin_switch(data_dir, library._catalog, b, a)  # a's index is complete: at once
    finally:
        library.close()
