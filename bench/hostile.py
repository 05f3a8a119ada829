"""Hostile files, each indexed alone: seconds and peak memory per file. Prints JSON.

Builds a corpus of files made to stall, blow up or crash an indexer (quadratic HTML and
RTF, giant words, zip bombs, pixel bombs, truncated and random files, odd names, deep
folders) and puts each case in a folder of its own. Each case runs in a fresh child
process with the random tiny test model: the child first indexes a trivial folder into
the case's data dir (torch imported, model loaded, the one-time ONNX export: the floor
every data dir pays, ~1.1 GB and several seconds here), then times `finder index <case>`
through the CLI in-process. Long queries run `finder search` the same way. Figures per
case: the seconds of that command, of reading its slowest file alone (extract_seconds),
the child's peak RSS (os.wait4's rusage) and how far it rose above the floor; a child
past --timeout is killed and reported as such. Target: no case over 10 s or 1 GB above
the floor.

    python bench/hostile.py                         # the whole corpus
    python bench/hostile.py --only html,word        # cases whose name contains these
    python bench/hostile.py --backend torch         # open_clip's tokenizer, not finder's
    python bench/hostile.py --max-memory-gb 8       # cap each child (RLIMIT_AS)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import emit

REPO = Path(__file__).resolve().parents[1]
TINY_MODEL = REPO / "tests" / "models" / "tiny-random.json"
TARGET_SECONDS = 10.0
TARGET_MB = 1024.0
SUFFIXES = [
    *(".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"),
    *(".txt", ".md", ".markdown", ".pdf", ".html", ".htm", ".docx", ".pptx", ".odt", ".odp"),
    ".rtf",
    *(".heic", ".heif", ".avif", ".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"),
]


# -- building the corpus -------------------------------------------------------------------


def _letters(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def _random_words(size: int) -> str:
    """Words no cache has seen: the most a tokenizer does per character."""
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ("".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(size // 6))
    return " ".join(words)[:size]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _blank_png(path: Path, width: int, height: int, rows: int | None = None) -> None:
    """An RGB PNG of one colour, compressed as it is written (a few hundred KB for
    100 MP); `rows` < height leaves the data short, a header claiming more than is there."""
    row = b"\0" + bytes(width * 3)
    packer = zlib.compressobj(9)
    parts = [packer.compress(row) for _ in range(height if rows is None else rows)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header))
        f.write(_png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b""))


def _pdf(path: Path, pages: list[str]) -> None:
    """A minimal valid PDF, one line of Helvetica per page (as tests/helpers.py)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for pid, text in zip(page_ids, pages, strict=True):
        stream = f"BT /F1 12 Tf 50 700 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {pid + 1} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
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
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))


def _encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = path.with_suffix(".plain")
    _pdf(plain, ["a locked page"])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(path, "wb") as f:
        writer.write(f)
    plain.unlink()


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
_TEXT = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'


def _zip_member(path: Path, member: str, head: str, block: str, count: int, tail: str) -> None:
    """A zip whose one XML member is head + block * count + tail, written streaming."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(member, "w", force_zip64=True) as f,
    ):
        f.write(head.encode())
        chunk = (block * 1000).encode()
        for _ in range(count // 1000):
            f.write(chunk)
        f.write(tail.encode())


def _docx_bomb(path: Path, megabytes: int) -> None:
    block = "<w:p><w:r><w:t>lorem ipsum dolor sit amet</w:t></w:r></w:p>"
    count = megabytes * 2**20 // len(block)
    head = f"<w:document {_W}><w:body>"
    _zip_member(path, "word/document.xml", head, block, count, "</w:body></w:document>")


def _docx_varied(path: Path, megabytes: int) -> None:
    """A large document that compresses like a real one (~4x): random words."""
    rng = random.Random(2)
    words = [_letters(rng.randint(2, 10), seed=i) for i in range(5000)]
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as f,
    ):
        f.write(f"<w:document {_W}><w:body>".encode())
        written = 0
        while written < megabytes << 20:
            paragraphs = "".join(
                f"<w:p><w:r><w:t>{' '.join(rng.choices(words, k=12))}</w:t></w:r></w:p>"
                for _ in range(1000)
            ).encode()
            f.write(paragraphs)
            written += len(paragraphs)
        f.write(b"</w:body></w:document>")


def _odt_bomb(path: Path, megabytes: int) -> None:
    block = "<text:p>lorem ipsum dolor sit amet</text:p>"
    count = megabytes * 2**20 // len(block)
    head = f"<office:document-content {_TEXT} xmlns:office='urn:o'><office:body>"
    _zip_member(path, "content.xml", head, block, count, "</office:body></office:document-content>")


def _pptx(path: Path, slides: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(1, slides + 1):
            text = f"<a:p><a:r><a:t>slide {n} text</a:t></a:r></a:p>"
            xml = f"<p:sld {_A} xmlns:p='urn:p'>{text}</p:sld>"
            archive.writestr(f"ppt/slides/slide{n}.xml", xml)


def _nested_xml_docx(path: Path, depth: int) -> None:
    head = f"<w:document {_W}><w:body>" + "<w:p>" * depth
    _zip_member(path, "word/document.xml", head, "", 0, "</w:p>" * depth + "</w:body></w:document>")


def _jpeg(path: Path, size: tuple[int, int]) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (200, 210, 220))
    ImageDraw.Draw(img).ellipse((size[0] // 4, 0, size[0] // 2, size[1]), fill="red")
    img.save(path, quality=85)


def _heic(path: Path, size: tuple[int, int]) -> None:
    """A noisy HEIC or AVIF (by the suffix) written by pillow-heif / Pillow."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    Image.effect_noise(size, 64).convert("RGB").save(path, quality=85)


def _cases() -> dict[str, Callable[[Path], None]]:
    """name -> a function writing the case into its (empty) folder."""

    def text(name: str, make: Callable[[], str | bytes]) -> Callable[[Path], None]:
        def write(folder: Path) -> None:
            data = make()
            (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())

        return write

    def cut(name: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
        def write(folder: Path) -> None:
            make(folder / name)
            data = (folder / name).read_bytes()
            (folder / name).write_bytes(data[: len(data) // 2])

        return write

    cases: dict[str, Callable[[Path], None]] = {
        "good": text("note.txt", lambda: "the hardware store receipt for screws"),
        "empty-file": text("zero.txt", lambda: b""),
        "odd-name": text(
            "name with spaces\nnewline & \u00fcn\u00efc\u00f6d\u00e9 \U0001f642.txt",
            lambda: "odd name",
        ),
        "deep-folder": _deep_folder,
        "truncated-jpeg": cut("cut.jpg", lambda p: _jpeg(p, (800, 600))),
        "truncated-png": cut("cut.png", lambda p: _blank_png(p, 800, 600)),
        "truncated-pdf": cut("cut.pdf", lambda p: _pdf(p, ["page one", "page two"])),
        "truncated-heic": cut("cut.heic", lambda p: _heic(p, (800, 600))),
        "truncated-avif": cut("cut.avif", lambda p: _heic(p, (800, 600))),
        "encrypted-pdf": lambda folder: _encrypted_pdf(folder / "locked.pdf"),
        "pdf-2000-pages": lambda folder: _pdf(
            folder / "long.pdf", [f"page {i}" for i in range(2000)]
        ),
        "png-99mp-strip-9900000x10": lambda folder: _blank_png(folder / "strip.png", 9_900_000, 10),
        "png-99mp-9950x9950": lambda folder: _blank_png(folder / "square.png", 9950, 9950),
        "png-60to1-60000x1000": lambda folder: _blank_png(folder / "wide.png", 60_000, 1000),
        "png-claims-30000x30000": lambda folder: _blank_png(
            folder / "claim.png", 30_000, 30_000, rows=2
        ),
        "jpeg-panorama-20000x1000": lambda folder: _jpeg(folder / "pano.jpg", (20_000, 1000)),
        "docx-zip-bomb-200mb-xml": lambda folder: _docx_bomb(folder / "bomb.docx", 200),
        "docx-20mb-xml-varied": lambda folder: _docx_varied(folder / "big.docx", 20),
        "docx-nested-100k": lambda folder: _nested_xml_docx(folder / "deep.docx", 100_000),
        "odt-zip-bomb-200mb-xml": lambda folder: _odt_bomb(folder / "bomb.odt", 200),
        "pptx-3000-slides": lambda folder: _pptx(folder / "deck.pptx", 3000),
        "rtf-open-braces-2mb": text("braces.rtf", lambda: "{\\rtf1 " + "{" * 2_000_000),
        "rtf-controls-2mb": text("controls.rtf", lambda: "{\\rtf1 " + "\\b " * 700_000 + "}"),
        "rtf-font-table-400k": text(
            "fonts.rtf", lambda: "{\\rtf1{\\fonttbl" + "\\f1 " * 100_000 + "}}"
        ),
        "rtf-field-starts-400k": text(
            "fields.rtf", lambda: "{\\rtf1 " + "{\\field{\\*\\fldinst{" * 20_000 + "}"
        ),
        "txt-random-words-4mb": text("words.txt", lambda: _random_words(4_000_000)),
        "txt-word-10k": text("word.txt", lambda: _letters(10_000)),
        "txt-word-60k": text("word.txt", lambda: _letters(60_000)),
        "txt-word-100k": text("word.txt", lambda: _letters(100_000)),
        "txt-48mb": text(
            "huge.txt", lambda: "the quick brown fox jumps over the lazy dog\n" * 1_100_000
        ),
        "txt-one-line-4mb-punctuation": text("punct.txt", lambda: "!?" * 2_000_000),
    }
    for kb, n in (("50k", 16_666), ("210k", 70_000), ("2m", 700_000)):
        cases[f"html-open-tags-{kb}"] = text("a.html", lambda n=n: "<a " * n)
        cases[f"html-open-comments-{kb}"] = text("c.html", lambda n=n: "<!--" * (n * 3 // 4))
    cases["html-nested-2m"] = text(
        "n.html", lambda: "<div>" * 400_000 + "deep" + "</div>" * 400_000
    )
    cases["html-attribute-2m"] = text("v.html", lambda: '<a title="' + "x" * 2_000_000 + '">hi</a>')
    cases["html-open-quote-2m"] = text("q.html", lambda: '<p>text</p><a title="' + "x>" * 1_000_000)
    cases["html-script-ends-2m"] = text("s.html", lambda: "<script>" + "</script " * 220_000)
    cases["html-lone-lt-2m"] = text("l.html", lambda: "a < b " * 350_000)
    for i, suffix in enumerate(SUFFIXES):
        rng = random.Random(i)
        cases[f"random-bytes{suffix}"] = text(
            f"noise{suffix}", lambda rng=rng: rng.randbytes(65536)
        )
    return cases


def _deep_folder(folder: Path) -> None:
    deep = folder.joinpath(*[f"level{i}" for i in range(150)])
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("found at the bottom")


# -- running ---------------------------------------------------------------------------------


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINDER_")}
    env.update(
        PYTHONPATH=str(REPO),
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        HF_HUB_OFFLINE="1",
    )
    return env


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was (the cores are shared)."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        cpu = next((line.partition(":")[2].strip() for line in f if "model name" in line), cpu)
    load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg_1_5_15": load,
        "python": sys.version.split()[0],
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(warm: Path, work: Path, backend: str, command: list[str]) -> None:
    """In the child: index a trivial folder first (imports torch, loads the model: the
    floor every run pays), then run `command` (finder's CLI, in-process) and time it."""
    import io

    from finder import cli

    model = ["--model", str(TINY_MODEL), "--pretrained", "none", "--backend", backend]
    quiet = io.StringIO()
    # The same data dir: what a data dir costs once (a first index, the one-time ONNX
    # export of `auto`) is the floor's, not the file's.
    floor_run = ["index", str(warm), "--data-dir", str(work), *model, "-q", "--no-ocr"]
    cli.main(floor_run, stdout=quiet, stderr=quiet)
    floor = _peak_mb()
    extract_s = _time_extraction(Path(command[1])) if command[0] == "index" else None
    out = io.StringIO()
    started = time.perf_counter()
    code = cli.main([*command, "--data-dir", str(work), *model], stdout=out, stderr=out)
    seconds = time.perf_counter() - started
    said = [line for line in out.getvalue().splitlines() if line.strip() and "WARNING" not in line]
    result = {"seconds": round(seconds, 2), "floor_mb": round(floor, 1), "exit": code}
    if extract_s is not None:
        result["extract_seconds"] = extract_s
    result["said"] = " | ".join(said[-3:])[-300:]
    print("RESULT " + json.dumps(result), flush=True)


def _time_extraction(folder: Path) -> float:
    """Seconds the slowest file of `folder` takes to read alone (decode or extract, as the
    indexer does before embedding), whatever the outcome."""
    from finder.core.ingest import extract

    slowest = 0.0
    for path in folder.rglob("*"):
        kind = extract.kind_of(path)
        if kind is None or not path.is_file():
            continue
        started = time.perf_counter()
        try:
            if kind.value == "photo":
                extract.load_image(path)
            else:
                extract.read_document(path)
                if path.suffix.lower() == ".pdf":
                    extract.render_pdf_pages(path)
        except Exception:  # noqa: BLE001 (the outcome is the index run's to report)
            pass
        slowest = max(slowest, time.perf_counter() - started)
    return round(slowest, 2)


def _run(
    args: list[str], env: dict[str, str], timeout: float, max_memory: int | None
) -> dict[str, Any]:
    """One child: what it reported, its peak RSS (os.wait4) and the part above the floor."""

    def limit() -> None:
        if max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

    started = time.monotonic()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                timed_out = True
                process.send_signal(signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    peak = usage.ru_maxrss / 1024
    reported = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if reported:
        result = json.loads(reported[-1][len("RESULT ") :])
    else:
        tail = [line for line in output.splitlines() if line.strip()][-2:]
        how = f"killed after {timeout:.0f} s" if timed_out else f"exit {process.returncode}"
        result = {"seconds": None, "exit": how, "said": " | ".join(tail)[-300:]}
    result["peak_rss_mb"] = round(peak, 1)
    if "floor_mb" in result:
        result["above_floor_mb"] = round(peak - result["floor_mb"], 1)
    return result


def _over(result: dict[str, Any]) -> bool:
    if result["seconds"] is None:
        return True
    return bool(result["seconds"] > TARGET_SECONDS or result.get("above_floor_mb", 0) > TARGET_MB)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, help="build the corpus here (default: a temp dir)")
    parser.add_argument("--only", default="", help="comma-separated parts of case names")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--max-memory-gb", type=float, default=0.0, help="RLIMIT_AS per child")
    parser.add_argument("--no-queries", action="store_true", help="skip the long queries")
    parser.add_argument(
        "--backend",
        default="auto",
        choices=["auto", "onnx", "torch"],
        help="finder's --backend (auto, what users get: ONNX Runtime once exported)",
    )
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], sys.argv[5:])
        return
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    max_memory = int(args.max_memory_gb * 2**30) or None
    with tempfile.TemporaryDirectory(prefix="finder-hostile-") as tmp:
        work = args.workdir or Path(tmp)
        env = _child_env(work / "home")
        warm = work / "warm"
        if not warm.exists():
            warm.mkdir(parents=True)
            (warm / "note.txt").write_text("a small note to load the model with")
        results: dict[str, dict[str, Any]] = {}

        def run(name: str, command: list[str]) -> None:
            data_dir = work / "data" / name
            child_args = [str(warm), str(data_dir), args.backend, *command]
            results[name] = _run(child_args, env, args.timeout, max_memory)
            print(f"{name}: {results[name]}", file=sys.stderr, flush=True)

        for name, make in _cases().items():
            if wanted and not any(w in name for w in wanted):
                continue
            folder = work / "corpus" / name
            if not folder.exists():
                folder.mkdir(parents=True)
                make(folder)
            run(name, ["index", str(folder), "-q", "--no-ocr"])
            results[name]["bytes"] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        if not args.no_queries and (not wanted or any("query" in w for w in wanted)):
            for n in (10_000, 60_000, 100_000):
                run(
                    f"query-{n // 1000}k-letters", ["search", _letters(n, seed=n), "--kind", "docs"]
                )
    measured = [r for r in results.values() if r["seconds"] is not None]
    emit(
        {
            "bench": "hostile",
            "backend": args.backend,
            "machine": machine(),
            "target": {"seconds": TARGET_SECONDS, "above_floor_mb": TARGET_MB},
            "cases": results,
            "max_seconds": max((r["seconds"] for r in measured), default=None),
            "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results.values()),
            "max_above_floor_mb": max((r.get("above_floor_mb", 0) for r in measured), default=None),
            "over_target": [name for name, r in results.items() if _over(r)],
        }
    )


if __name__ == "__main__":
    main()
