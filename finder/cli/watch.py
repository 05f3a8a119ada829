"""`finder watch`: keep the index following the folders until Ctrl+C or SIGTERM.

Besides the watcher (finder.core.indexing.watcher) it reads the text in new pictures (the OCR
pass, unless --no-ocr) and carries on a model switch left unfinished: the target model
embeds in a thread while the active one keeps indexing what changes, and takes over once
every file has its vectors.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from finder.cli.common import EXIT_FAILURE, EXIT_OK, Command, open_library
from finder.core.indexing.ocr_pass import OcrReport
from finder.core.indexing.watcher import WatchBatch, WatchedRoot
from finder.core.library import Library
from finder.core.models.spec import ModelSpec
from finder.core.store.errors import CatalogError
from finder.core.types import IndexProgress, SwitchOutcome, SwitchRun

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 30.0  # a switch's progress line, at most this often
RETRY_SWITCH_S = 60.0  # nothing left to embed but not complete: look again after this


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
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


def cmd_watch(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = open_library(args, spec, writable=True)
    try:
        for folder in args.folders:
            library.add_folder(folder)
        if not library.folders():
            print("finder: error: no folders to watch; run `finder watch FOLDER`", file=err)
            return EXIT_FAILURE
        return EXIT_OK if watch(args, library, out, err) else EXIT_FAILURE
    finally:
        library.close()


COMMANDS: dict[str, Command] = {"watch": cmd_watch}


def watch(args: argparse.Namespace, library: Library, out: TextIO, err: TextIO) -> bool:
    """Watch until stopped; False if watching failed (on_error said why)."""
    say = _Printer(out)
    stop = threading.Event()
    switch: SwitchThread | None = None

    def on_batch(batch: WatchBatch) -> None:
        _print_batch(batch, say)
        if switch is not None and batch.changed:
            switch.files_changed()

    watcher = library.watch(
        on_batch_indexed=on_batch,
        on_error=lambda m: _Printer(err)(f"finder: error: {m}"),
        on_roots_changed=lambda roots: _print_roots(roots, say),
        read_text=not args.no_ocr,
        on_text_read=lambda r: _print_text(r, say),
    )
    pending = library.switch.pending()
    switch = SwitchThread(library, pending.label, say) if pending is not None else None
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda n, f: stop.set())
    try:
        watcher.start()
        print(
            f"Watching {len(library.folders())} folder(s); Ctrl+C stops.",
            file=err,
            flush=True,
        )
        if switch is not None:
            switch.start()
        while not stop.wait(0.5):
            if not watcher.running:
                return False
    finally:
        if switch is not None:
            switch.cancel.set()  # it stops after its batch in flight; resumable
        watcher.stop()
        if switch is not None:
            switch.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("finder: stopped watching", file=err, flush=True)
    return True


class SwitchThread:
    """Finishes a switch (Library.switch.run beside indexing) in a thread while the
    watcher serves the active model; once the target has taken over, the library and
    its watcher index and search with it. Says how it went."""

    def __init__(self, library: Library, label: str, say: Callable[[str], None]) -> None:
        self.library = library
        self.label = label
        self.say = say
        self.cancel = threading.Event()
        self._changed = threading.Event()  # the watcher indexed changes since the last run
        self._last_progress = 0.0
        self._thread = threading.Thread(target=self._run, name="finder-switch", daemon=True)

    def start(self) -> None:
        self.say(
            f"switching to {self.label}: embedding in the background; searches "
            "use the current model until it is complete"
        )
        self._thread.start()

    def files_changed(self) -> None:
        self._changed.set()

    def join(self, timeout: float = 60.0) -> None:
        self._changed.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        label = self.label
        try:
            run = self.library.switch.run(
                beside_indexing=True,
                adopt=True,
                progress=self._progress,
                cancel=self.cancel,
                wake=self._changed,
                retry_s=RETRY_SWITCH_S,
            )
        except (CatalogError, OSError) as exc:
            self.say(f"finder: error: switching to {label} stopped: {exc}")
            return
        except Exception as exc:  # a bug must be seen; watching goes on
            log.exception("switching to %s failed", label)
            self.say(f"finder: error: switching to {label} stopped: {type(exc).__name__}: {exc}")
            return
        if run is not None:
            self._say_how(run)

    def _say_how(self, run: SwitchRun) -> None:
        label, done = run.label, run.reembedded
        if run.outcome is SwitchOutcome.ON_HOLD:
            self.say(f"Switching to {label} is on hold: {run.reason}")
        elif run.outcome is SwitchOutcome.CANCELLED:
            self.say(
                f"switching to {label}: stopped, {done:,} files re-embedded; it goes "
                "on next time (`finder watch` or `finder index`)"
            )
        elif run.taken_over:
            self.say(
                f"{label} now answers searches ({done:,} files re-embedded); new "
                "files are indexed with it"
            )
        elif run.outcome is SwitchOutcome.ABANDONED:
            self.say(f"switching to {label}: cancelled")

    def _progress(self, p: IndexProgress) -> None:
        now = time.monotonic()
        if p.phase != "embedding" or not p.total or now - self._last_progress < PROGRESS_EVERY_S:
            return
        if self._last_progress:  # the first batch is too early to say much
            self.say(
                f"switching to {self.label}: {p.done:,}/{p.total:,} files "
                f"embedded ({p.rate:.1f} files/s)"
            )
        self._last_progress = now


class _Printer:
    """Timestamped lines, whole, from any thread."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, line: str) -> None:
        with self._lock:
            print(f"{time.strftime('%H:%M:%S')}  {line}", file=self.stream, flush=True)


def _print_roots(roots: list[WatchedRoot], say: Callable[[str], None]) -> None:
    for r in roots:
        say(f"{r.mode:<8} {r.path}" + (f"  ({r.reason})" if r.reason else ""))


def _print_batch(batch: WatchBatch, say: Callable[[str], None]) -> None:
    r = batch.report
    if not batch.changed:
        if batch.full:  # the catch-up scan found nothing new: say so, once
            say(f"all folders up to date ({r.scanned:,} files checked, {r.elapsed_s:.1f} s)")
        return
    what = (
        "all folders"
        if batch.full
        else ", ".join(batch.paths[:3])
        + (f" and {len(batch.paths) - 3:,} more" if len(batch.paths) > 3 else "")
    )
    say(
        f"{r.added:,} added, {r.updated:,} updated, {r.moved:,} moved, {r.removed:,} removed "
        f"({r.items_embedded:,} items embedded, {r.elapsed_s:.1f} s): {what}"
    )
    for error in r.errors[:20]:
        say(f"could not index {error.path}: {error.reason}")
    for path in r.offline:
        say(
            f"offline  {path} (not found: its files are kept, hidden from searches until "
            "it is back)"
        )
    for path in r.back_online:
        say(f"back     {path}")


def _print_text(report: OcrReport, say: Callable[[str], None]) -> None:
    if report.unavailable:
        say(f"text in pictures not read: {report.unavailable}")
    elif report.read:
        say(
            f"text in pictures: {report.read:,} read, text found in {report.with_text:,} "
            f"files ({report.elapsed_s:.1f} s)"
        )
