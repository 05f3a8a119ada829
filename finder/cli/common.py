"""What every command shares: exit codes, opening the service, progress, Ctrl+C, logging.

The bottom of the CLI package: the command modules import it, never each other.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

from finder import paths
from finder.config import Environment
from finder.core.library import Library
from finder.core.model_shelf import can_download
from finder.core.model_switch import active_model
from finder.core.models import catalogue
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.weights import DownloadProgress
from finder.core.types import IndexProgress

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# A command: (arguments, the model to use, stdout, stderr) -> exit code.
Command = Callable[[argparse.Namespace, ModelSpec, TextIO, TextIO], int]


# -- the model and the service -----------------------------------------------------------


def apply_environment(args: argparse.Namespace, environment: Environment) -> None:
    """What the flags left unset, the environment fills in (a flag wins); args.hub is
    where weights are looked up and downloaded."""
    args.model = args.model or environment.model
    args.pretrained = args.pretrained or environment.pretrained
    args.precision = args.precision or environment.precision
    args.backend = getattr(args, "backend", None) or environment.backend
    args.hub = environment.hub


def resolve_spec(args: argparse.Namespace) -> ModelSpec:
    """--model/--pretrained or their environment variables (apply_environment), else the
    data dir's active model, else the default."""
    if not (args.model or args.pretrained):
        active = active_model(paths.data_dir(args.data_dir))
        if active is not None:
            return active
    return resolve_model_spec(args.model, args.pretrained)


def parse_model(text: str, pretrained: str | None = None) -> ModelSpec:
    """ "ViT-B-16", "ViT-B-16@laion2b_s34b_b88k", "tiny.json@none", or a key."""
    name = text
    if pretrained is None and "@" in text:
        name, pretrained = text.rsplit("@", 1)
    entry = catalogue.find(name, pretrained)
    if pretrained is None and entry is not None:
        pretrained = entry.pretrained
    return resolve_model_spec(name, pretrained)


def open_library(args: argparse.Namespace, spec: ModelSpec, *, writable: bool) -> Library:
    return Library.open(
        paths.data_dir(args.data_dir),
        spec,
        writable=writable,
        precision=args.precision,
        backend=args.backend,
        hub=args.hub,
    )


def run_faster(args: argparse.Namespace, library: Library, err: TextIO) -> None:
    """Before a long index run: export a torch model for ONNX Runtime (once per model)."""
    if not library.wants_faster_runtime():
        return
    if not args.quiet:
        print(
            f"Preparing {library.model_description} for ONNX Runtime (once; faster "
            "queries and less memory from now on)...",
            file=err,
            flush=True,
        )
    started = time.monotonic()
    adopted = library.adopt_faster_runtime(library.export_faster_runtime())
    if adopted and not args.quiet:
        print(f"  done in {time.monotonic() - started:.0f} s", file=err, flush=True)


def model_missing_note(spec: ModelSpec, reason: str) -> str:
    """What a command done without the model says: what works now, how to get the model."""
    get = "Get the model"
    if can_download(spec):
        get = f"Download it once with `finder models download {spec.name}@{spec.pretrained}`"
    return (
        "Meaning search waits for the CLIP model: file names, document text and text in "
        f"pictures are indexed and found by keywords now. {get} (or pass --pretrained "
        "/path/to/checkpoint); then `finder index` adds only its vectors.\n"
        f"  ({reason})"
    )


# -- arguments, logging, Ctrl+C -----------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def configure_logging(verbose: bool) -> None:
    # Third-party libraries (open_clip, huggingface_hub) log chatty warnings to the root logger.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("finder").setLevel(logging.INFO if verbose else logging.WARNING)


def cancel_on_interrupt(
    cancel: threading.Event, err: TextIO
) -> Callable[[int, FrameType | None], None]:
    """A SIGINT handler: the first Ctrl+C stops after the current batch, the second aborts."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nfinder: stopping after the current batch (Ctrl+C again to abort)", file=err)

    return handler


@contextmanager
def interrupt_sets(
    cancel: threading.Event, handler: Callable[[int, FrameType | None], Any] | None = None
) -> Iterator[None]:
    """While inside, Ctrl+C sets `cancel` (the work stops cleanly at its next step)
    instead of raising KeyboardInterrupt, or calls `handler`. Signals can only be caught
    on the main thread."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if main:
        signal.signal(signal.SIGINT, handler or (lambda signum, frame: cancel.set()))
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


# -- progress ------------------------------------------------------------------------------


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


class DownloadBar:
    """Bytes, percent, speed; one line on a terminal, sparse lines elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        now = time.monotonic()
        final = p.overall_done >= p.overall_total
        if not final and now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        total = max(p.overall_total, 1)
        filled = int(30 * p.overall_done / total)
        rate = p.overall_done / max(now - self.started, 1e-6)
        line = (
            f"Downloading [{'#' * filled}{'-' * (30 - filled)}] "
            f"{size(p.overall_done)}/{size(p.overall_total)} "
            f"{100 * p.overall_done / total:.0f}%  {size(int(rate))}/s"
        )
        self.stream.write(
            ("\r\033[K" + line + ("\n" if final else "")) if self.tty else line + "\n"
        )
        self.stream.flush()


def size(n: float) -> str:
    """Bytes for people: 512 B, 12 KB, 350 MB, 1.71 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB", "MB") else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n} B"
