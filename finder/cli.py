"""Headless commands over the same core the app uses: index, search, status, remove, model."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import TextIO

from finder import __version__, cli_models, paths
from finder.core.ingest.extract import ExtractError
from finder.core.library import FolderError, Library
from finder.core.models.embedder import (
    BACKENDS,
    PRECISIONS,
    ClipEmbedder,
    ModelSpec,
    ModelUnavailableError,
)
from finder.core.search.relevance import relevant
from finder.core.store.catalog import CatalogError
from finder.core.store.lock import DataDirLockedError
from finder.core.types import IndexProgress, IndexReport, SearchKind, SearchResult

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Failures we explain in one line instead of a traceback.
EXPECTED_ERRORS = (
    ModelUnavailableError,
    DataDirLockedError,
    CatalogError,
    FolderError,
    ExtractError,
    OSError,
    *cli_models.EXPECTED_ERRORS,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="finder", description="Find photos and documents by description or by example image."
    )
    parser.add_argument("--version", action="version", version=f"finder {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        help="where the index lives (default: $FINDER_DATA_DIR, else the user data dir)",
    )
    common.add_argument(
        "--model",
        help="open_clip model name, or path to a model-config JSON "
        "(default: $FINDER_MODEL, else ViT-B-32)",
    )
    common.add_argument(
        "--pretrained",
        help="pretrained tag, checkpoint file, or 'none' for "
        "random weights (tests only) (default: $FINDER_PRETRAINED)",
    )
    common.add_argument(
        "--precision",
        choices=PRECISIONS,
        type=str.lower,
        help="model arithmetic: bf16 is faster where the CPU has native bf16, "
        "fp32 is the reference (default: $FINDER_PRECISION, else auto)",
    )
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        type=str.lower,
        help="what runs the model: onnx (ONNX Runtime, after a one-time "
        "export), torch, or auto: onnx once exported, unless the CPU has "
        "native bf16 (default: $FINDER_BACKEND, else auto)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="add folders and index them")
    p.add_argument("folders", nargs="*", help="folders to add (default: re-index all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--no-ocr",
        action="store_true",
        help="skip reading the text in pictures after indexing (done next time)",
    )

    p = sub.add_parser(
        "watch",
        parents=[common],
        help="keep the index following the folders as they change, and finish "
        "a model switch (Ctrl+C stops)",
    )
    p.add_argument("folders", nargs="*", help="folders to add first (default: the watched ones)")
    p.add_argument(
        "--no-ocr",
        action="store_true",
        help="do not read the text in new pictures (done by the next run without it)",
    )

    p = sub.add_parser("search", parents=[common], help="search by text or by image")
    p.add_argument("query", nargs="?", help="what you are looking for")
    p.add_argument("--image", help="search with this image instead of text")
    p.add_argument(
        "--kind",
        choices=[k.value for k in SearchKind],
        default=SearchKind.ALL.value,
        help="photos, docs or all (default)",
    )
    p.add_argument("-k", type=_positive_int, default=10, help="how many results (default 10)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help="also show the clearly irrelevant tail (hidden by default)",
    )

    p = sub.add_parser("status", parents=[common], help="folders, counts, model, index health")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "remove",
        parents=[common],
        help="stop watching a folder and drop it from the index (files untouched)",
    )
    p.add_argument("folders", nargs="+")

    p = sub.add_parser("model", parents=[common], help="show or download the CLIP model")
    p.add_argument("action", choices=["info", "download"])
    cli_models.add_parsers(sub, common)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    _configure_logging(args.verbose)
    try:
        spec = cli_models.resolve_spec(args)
        if spec.is_random and args.command in ("index", "search"):
            print(
                "finder: WARNING: random model weights (--pretrained none): results are "
                "meaningless; use this only for tests and speed benchmarks",
                file=err,
            )
        handler = _COMMANDS[args.command]
        return handler(args, spec, out, err)
    except EXPECTED_ERRORS as exc:
        print(f"finder: error: {exc}", file=err)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("finder: interrupted", file=err)
        return EXIT_INTERRUPTED


# -- commands --------------------------------------------------------------------------


def _cmd_index(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = _open(args, spec, writable=True)
    try:
        cli_models.remember_first_model(library.data_dir, spec)
        roots = [library.add_folder(folder) for folder in args.folders]
        _run_faster(args, library, err)
        cancel = threading.Event()
        previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, _cancel_on_interrupt(cancel, err))
        try:
            printer = None if args.quiet else ProgressPrinter(err)
            report = library.indexer.run(
                [Path(r.path) for r in roots] if roots else None, progress=printer, cancel=cancel
            )
            _print_report(report, out)
            if not report.cancelled:
                report.cancelled = _continue_switch(args, library, printer, cancel, out)
            if not report.cancelled and not args.no_ocr:
                # The second, slower pass: text in photos and scanned pages (OCR).
                ocr = library.read_text_in_images(cancel=cancel)
                if ocr.read:
                    print(
                        f"Text in pictures: {ocr.read:,} pictures read, text found in "
                        f"{ocr.with_text:,} files ({ocr.elapsed_s:.1f} s)",
                        file=out,
                    )
                elif ocr.unavailable:
                    print(f"Text in pictures not read: {ocr.unavailable}", file=out)
                report.cancelled = ocr.cancelled
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, previous)
        return EXIT_INTERRUPTED if report.cancelled else EXIT_OK
    finally:
        library.close()


def _continue_switch(
    args: argparse.Namespace,
    library: Library,
    printer: ProgressPrinter | None,
    cancel: threading.Event,
    out: TextIO,
) -> bool:
    """A model switch in progress: embed what the new model still lacks. True if stopped."""
    from finder.core.models.switching import load_state

    target = load_state(library.data_dir).target
    if target is None or target.key == library.embedder.key:
        return False
    try:
        embedder = ClipEmbedder(target.spec(), precision=args.precision)
        report = library.embed_with(embedder, progress=printer, cancel=cancel)
    except ModelUnavailableError as exc:
        print(f"Switching to {target.label} is on hold: {exc}", file=out)
        return False
    taken = load_state(library.data_dir).active
    done = "it now answers searches" if taken and taken.key == target.key else "not complete yet"
    print(f"Switching to {target.label}: {report.reembedded:,} files re-embedded; {done}", file=out)
    return report.cancelled


def _cmd_watch(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    from finder import cli_watch

    library = _open(args, spec, writable=True)
    try:
        for folder in args.folders:
            library.add_folder(folder)
        if not library.catalog.roots():
            print("finder: error: no folders to watch; run `finder watch FOLDER`", file=err)
            return EXIT_FAILURE
        return EXIT_OK if cli_watch.watch(args, library, out, err) else EXIT_FAILURE
    finally:
        library.close()


def _cmd_search(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    if bool(args.query) == bool(args.image):
        print("finder: error: give either a text query or --image PATH", file=err)
        return EXIT_USAGE
    library = _open(args, spec, writable=False)
    try:
        kind = SearchKind(args.kind)
        if args.image:
            image = Path(args.image).expanduser()
            if not image.is_file():
                raise FolderError(f"{image}: no such image file")
            results = library.search.image(image, kind, args.k)
        else:
            results = library.search.text(args.query, kind, args.k)
        results = relevant(results, args.show_all)
        if args.json:
            json.dump([r.to_json() for r in results], out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            _print_results(results, out)
        return EXIT_OK
    finally:
        library.close()


def _cmd_status(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = _open(args, spec, writable=False)
    try:
        status = library.status()
    finally:
        library.close()
    if args.json:
        precision = getattr(library.embedder, "precision_in_use", "fp32")
        json.dump(
            {
                **asdict(status),
                "precision": precision,
                "runtime": getattr(library.embedder, "backend", "torch"),
            },
            out,
            indent=2,
            ensure_ascii=False,
        )
        out.write("\n")
        return EXIT_OK
    print(f"data dir   {status.data_dir} (schema v{status.schema_version})", file=out)
    print(f"model      {status.model}", file=out)
    if status.switching_to:
        print(
            f"switching  to {status.switching_to}: {status.switch_embedded:,}/"
            f"{status.switch_total:,} files embedded; searches use the model above until it "
            "is complete (`finder index` or `finder watch` continues it)",
            file=out,
        )
    print(f"precision  {_precision_line(library.embedder)}", file=out)
    print(
        f"indexed    {status.photos:,} photos, {status.documents:,} documents, "
        f"{status.items:,} items; {status.errors:,} files could not be read",
        file=out,
    )
    vectors = ", ".join(f"{n:,} {m}" for m, n in status.vectors.items())
    print(
        f"index      {status.index_state}" + (f" ({vectors} vectors)" if vectors else ""), file=out
    )
    if not status.folders:
        print("folders    none yet: run `finder index FOLDER`", file=out)
    if status.watcher_pid:
        print(f"watcher    running (pid {status.watcher_pid})", file=out)
    for folder in status.folders:
        state = ""
        if folder.offline or not folder.present:
            state = "  [offline: not found; its files are kept, hidden from searches]"
        elif folder.watch == "polling":
            state = f"  [polled: {folder.watch_reason}]"
        elif folder.watch:
            state = f"  [watched: {folder.watch}]"
        print(
            f"folder     {folder.path}: {folder.photos:,} photos, {folder.documents:,} "
            f"documents, {folder.errors:,} errors{state}",
            file=out,
        )
    for path, reason in status.recent_errors:
        print(f"error      {path}: {reason}", file=out)
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = _open(args, spec, writable=True)
    try:
        for folder in args.folders:
            removed = library.remove_folder(folder)
            print(
                f"removed {folder} from the index ({removed:,} items); its files are untouched",
                file=out,
            )
    finally:
        library.close()
    return EXIT_OK


def _cmd_model(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    embedder = ClipEmbedder(spec, precision=args.precision)
    if args.action == "download":
        path = embedder.download()
        print(f"{spec.describe()}: weights at {path}", file=out)
        return EXIT_OK
    print(f"model      {spec.describe()}", file=out)
    print(f"key        {spec.key}", file=out)
    print(f"precision  {_precision_line(embedder)}", file=out)
    embedder.load()
    print(f"dimension  {embedder.dim}", file=out)
    return EXIT_OK


_COMMANDS = {
    "index": _cmd_index,
    "search": _cmd_search,
    "status": _cmd_status,
    "watch": _cmd_watch,
    "remove": _cmd_remove,
    "model": _cmd_model,
    **cli_models.COMMANDS,
}


# -- helpers -------------------------------------------------------------------------------


def _open(args: argparse.Namespace, spec: ModelSpec, *, writable: bool) -> Library:
    from finder.core.models.onnx_runtime import open_embedder

    data_dir = paths.data_dir(args.data_dir)
    embedder = open_embedder(
        spec, data_dir, precision=args.precision, backend=getattr(args, "backend", None)
    )
    return Library(data_dir, embedder, writable=writable)


def _run_faster(args: argparse.Namespace, library: Library, err: TextIO) -> None:
    """Before a long index run: export a torch model for ONNX Runtime (once per model)."""
    from finder.core.models.onnx_runtime import optimise, should_export

    if not should_export(library.embedder, library.data_dir, getattr(args, "backend", None)):
        return
    if not args.quiet:
        print(
            f"Preparing {library.embedder.description} for ONNX Runtime (once; faster "
            "queries and less memory from now on)...",
            file=err,
            flush=True,
        )
    started = time.monotonic()
    faster = optimise(library.embedder, library.data_dir, getattr(args, "backend", None))
    if faster is not library.embedder:
        library.use_runtime(faster)
        if not args.quiet:
            print(f"  done in {time.monotonic() - started:.0f} s", file=err, flush=True)


def _precision_line(embedder: object) -> str:
    backend = getattr(embedder, "backend", "")
    if backend == "onnxruntime":
        return "fp32 (ONNX Runtime)"
    if not isinstance(embedder, ClipEmbedder):
        return "fp32"
    return f"{embedder.precision_in_use} (torch; {embedder.precision_reason})"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _configure_logging(verbose: bool) -> None:
    # Third-party libraries (open_clip, huggingface_hub) log chatty warnings to the root logger.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("finder").setLevel(logging.INFO if verbose else logging.WARNING)


def _cancel_on_interrupt(cancel: threading.Event, err: TextIO):  # type: ignore[no-untyped-def]
    def handler(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nfinder: stopping after the current batch (Ctrl+C again to abort)", file=err)

    return handler


class ProgressPrinter:
    """A one-line progress bar on a terminal; sparse plain lines elsewhere (logs, CI)."""

    def __init__(self, stream: TextIO, interval_s: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval_s = interval_s if not self.tty else 0.1
        self._last = 0.0

    def __call__(self, p: IndexProgress) -> None:
        now = time.monotonic()
        final = p.phase == "done"
        if not final and now - self._last < self.interval_s:
            return
        self._last = now
        line = self._format(p)
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    @staticmethod
    def _format(p: IndexProgress) -> str:
        if p.phase == "scanning":
            return "Scanning folders..."
        if p.phase == "saving":
            return "Saving the index..."
        if p.phase == "done":
            return f"Done: {p.done:,} files processed in {p.elapsed_s:.1f} s"
        width = 30
        filled = int(width * p.done / p.total) if p.total else width
        bar = "#" * filled + "-" * (width - filled)
        eta = ""
        if p.rate > 0 and p.total > p.done:
            left = (p.total - p.done) / p.rate
            eta = f"  {int(left // 60)}:{int(left % 60):02d} left"
        return f"Indexing [{bar}] {p.done:,}/{p.total:,}  {p.rate:.1f} files/s{eta}" + (
            f"  {p.failed} errors" if p.failed else ""
        )


def _print_report(report: IndexReport, out: TextIO) -> None:
    print(
        f"{report.scanned:,} files seen: {report.added:,} added, {report.updated:,} updated, "
        f"{report.moved:,} moved, {report.removed:,} removed, {report.unchanged:,} unchanged; "
        f"{report.items_embedded:,} items embedded in {report.elapsed_s:.1f} s",
        file=out,
    )
    if report.errors:
        print(f"{len(report.errors):,} could not be indexed:", file=out)
        for error in report.errors[:20]:
            print(f"  {error.path}: {error.reason}", file=out)
        if len(report.errors) > 20:
            print(f"  ... and {len(report.errors) - 20:,} more (see `finder status`)", file=out)
    for path in report.offline:
        print(
            f"offline: {path} was not found; its files are kept, hidden from searches "
            "until it is back (`finder remove` forgets it)",
            file=out,
        )
    for path in report.back_online:
        print(f"back online: {path}", file=out)
    if report.cancelled:
        print("Stopped early; run `finder index` again to continue.", file=out)


def _print_results(results: list[SearchResult], out: TextIO) -> None:
    if not results:
        print("No results. Is anything indexed? See `finder status`.", file=out)
        return
    for rank, r in enumerate(results, 1):
        page = f"  (page {r.page})" if r.page else ""
        print(
            f"{rank:3d}. {r.score:6.3f}  {r.match or '':<6}  {r.kind.value:<8}  {r.path}{page}",
            file=out,
        )
        if r.snippet:
            snippet = r.snippet if len(r.snippet) <= 160 else r.snippet[:157] + "..."
            print(f"{'':14}\u201c{snippet}\u201d", file=out)
        if r.matched_terms or len(r.signals) > 1:
            words = f"matched: {', '.join(r.matched_terms)}; " if r.matched_terms else ""
            print(f"{'':14}{words}found by {', '.join(r.signals)}", file=out)
