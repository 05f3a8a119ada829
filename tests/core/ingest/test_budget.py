from __future__ import annotations

import threading
from pathlib import Path

import pytest

from finder.core.ingest import budget as budget_module
from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractCancelled, ExtractError
from finder.core.ingest.extract import read_document, render_pdf_pages
from finder.core.library import Library
from finder.core.types import FileStatus
from tests.helpers import draw_photo, write_docx, write_pdf, write_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_deadline_and_the_text_cap() -> None:
    clock = FakeClock()
    budget = Budget(seconds=5, max_chars=10, clock=clock)
    budget.check()
    assert budget.take("0123456") == "0123456" and not budget.full
    assert budget.take("789abc") == "789" and budget.full
    assert budget.take("more") == ""
    clock.now += 5.5
    with pytest.raises(ExtractError, match=r"took longer than 5 s to read; skipped"):
        budget.check()


def test_a_cancelled_run_is_not_the_file_s_fault() -> None:
    cancel = threading.Event()
    budget = Budget(cancel=cancel)
    budget.check()
    cancel.set()
    with pytest.raises(ExtractCancelled) as caught:
        budget.check()
    assert not isinstance(caught.value, ExtractError)  # nothing to record against the file


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.docx", "a.pptx", "a.pdf", "a.odt"])
def test_every_document_reader_checks_the_deadline(tmp_path: Path, name: str) -> None:
    path = _document(tmp_path / name)
    assert read_document(path)  # readable in time
    with pytest.raises(ExtractError, match="took longer than"):
        read_document(path, Budget(seconds=-1))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExtractCancelled):
        read_document(path, Budget(cancel=cancel))


def test_pdf_rendering_checks_the_deadline(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "a.pdf", ["one", "two"])
    with pytest.raises(ExtractError, match="took longer than"):
        render_pdf_pages(path, budget=Budget(seconds=-1))


def test_a_file_over_budget_is_recorded_and_the_next_run_moves_on(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Docs"
    slow = write_text(root / "slow.txt", "a note that takes too long")
    draw_photo(root / "photo.jpg")
    library.add_folder(root)
    monkeypatch.setattr(budget_module, "EXTRACT_SECONDS", -1.0)
    report = library._indexer.run()
    assert [(e.path, e.reason) for e in report.errors] == [
        (str(slow), "took longer than -1 s to read; skipped")
    ]
    record = library._catalog.file_by_path(str(slow))
    assert record is not None and record.status is FileStatus.ERROR
    assert library._catalog.counts()["photos"] == 1
    again = library._indexer.run()  # not retried until it changes: the run moves on
    assert not again.errors and again.unchanged == 2


def _document(path: Path) -> Path:
    import zipfile

    words = ["the hardware store receipt", "screws and a hammer"]
    if path.suffix == ".pdf":
        return write_pdf(path, words)
    if path.suffix == ".docx":
        return write_docx(path, words)
    if path.suffix == ".html":
        return write_text(path, "<p>" + "</p><p>".join(words) + "</p>")
    if path.suffix in (".pptx", ".odt"):
        a = "http://schemas.openxmlformats.org/drawingml/2006/main"
        t = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
        with zipfile.ZipFile(path, "w") as z:
            if path.suffix == ".pptx":
                for n, text in enumerate(words, 1):
                    xml = f'<p:sld xmlns:a="{a}" xmlns:p="p"><a:p><a:t>{text}</a:t></a:p></p:sld>'
                    z.writestr(f"ppt/slides/slide{n}.xml", xml)
            else:
                body = "".join(f"<text:p>{w}</text:p>" for w in words)
                z.writestr("content.xml", f'<doc xmlns:text="{t}">{body}</doc>')
        return path
    return write_text(path, " ".join(words))
