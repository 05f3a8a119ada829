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
from finder.core.indexing.watcher import WatchBatch, WatchedRoot, Watcher
from finder.core.library import Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.switching import ModelChoice, load_state
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.store.errors import CatalogError
from finder.core.types import IndexProgress

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
        if not library.catalog.roots():
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

    watcher = Watcher(
        library,
        on_batch_indexed=on_batch,
        on_error=lambda m: _Printer(err)(f"finder: error: {m}"),
        on_roots_changed=lambda roots: _print_roots(roots, say),
        read_text=not args.no_ocr,
        on_text_read=lambda r: _print_text(r, say),
    )
    switch = _switch_to_continue(library, watcher, args.precision, say)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda n, f: stop.set())
    try:
        watcher.start()
        print(
            f"Watching {len(library.catalog.roots())} folder(s); Ctrl+C stops.",
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


def _switch_to_continue(
    library: Library, watcher: Watcher, precision: str | None, say: Callable[[str], None]
) -> SwitchThread | None:
    target = load_state(library.data_dir).target
    if target is None or target.key == library.embedder.key:
        return None
    return SwitchThread(library, watcher, target, precision, say)


class SwitchThread:
    """Embeds what a switch's target model still lacks while the watcher serves the
    active model, then hands the watcher the target once it has taken over.

    Each run adds the target's vectors to files as the active model indexed them
    (`vectors_only`): files that change meanwhile are the watcher's, and the next run
    picks them up. Runs repeat until one ends with the target complete.
    """

    def __init__(
        self,
        library: Library,
        watcher: Watcher,
        target: ModelChoice,
        precision: str | None,
        say: Callable[[str], None],
    ) -> None:
        self.library = library
        self.watcher = watcher
        self.target = target
        self.precision = precision
        self.say = say
        self.cancel = threading.Event()
        self._changed = threading.Event()  # the watcher indexed changes since the last run
        self._last_progress = 0.0
        self._thread = threading.Thread(target=self._run, name="finder-switch", daemon=True)

    def start(self) -> None:
        self.say(
            f"switching to {self.target.label}: embedding in the background; searches "
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
        label = self.target.label
        try:
            self._embed_until_complete()
        except ModelUnavailableError as exc:
            self.say(f"Switching to {label} is on hold: {exc}")
        except (CatalogError, OSError) as exc:
            self.say(f"finder: error: switching to {label} stopped: {exc}")
        except Exception as exc:  # a bug must be seen; watching goes on
            log.exception("switching to %s failed", label)
            self.say(f"finder: error: switching to {label} stopped: {type(exc).__name__}: {exc}")

    def _embed_until_complete(self) -> None:
        label, done = self.target.label, 0
        embedder = ClipEmbedder(self.target.spec(), precision=self.precision)
        while not self.cancel.is_set():
            self._changed.clear()
            report = self.library.embed_with(
                embedder, progress=self._progress, cancel=self.cancel, vectors_only=True
            )
            done += report.reembedded
            if report.cancelled:
                self.say(
                    f"switching to {label}: stopped, {done:,} files re-embedded; it goes "
                    "on next time (`finder watch` or `finder index`)"
                )
                return
            state = load_state(self.library.data_dir)
            if state.active is not None and state.active.key == self.target.key:
                self.watcher.use_embedder(embedder)
                self.say(
                    f"{label} now answers searches ({done:,} files re-embedded); new "
                    "files are indexed with it"
                )
                return
            if state.target is None or state.target.key != self.target.key:
                self.say(f"switching to {label}: cancelled")
                return
            if not report.reembedded:  # what is missing is still being indexed
                self._changed.wait(RETRY_SWITCH_S)

    def _progress(self, p: IndexProgress) -> None:
        now = time.monotonic()
        if p.phase != "embedding" or not p.total or now - self._last_progress < PROGRESS_EVERY_S:
            return
        if self._last_progress:  # the first batch is too early to say much
            self.say(
                f"switching to {self.target.label}: {p.done:,}/{p.total:,} files "
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
