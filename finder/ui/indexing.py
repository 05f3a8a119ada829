"""The window's index jobs: folder changes and rescans one after another on the index
thread, pausing, progress in words, and following the folders live (the watcher) once
the first scan is done. Part of the Controller (`controller.jobs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from finder.core.indexing.ocr_pass import OcrReport
from finder.core.indexing.watcher import WatchBatch, Watcher
from finder.core.types import IndexProgress, IndexReport
from finder.ui.model_lifecycle import ModelPhase
from finder.ui.workers import IndexJob

if TYPE_CHECKING:
    from finder.ui.controller import Controller


class IndexJobs(QObject):
    # Emitted from the watcher's thread; queued to this (the GUI) thread.
    _watched_batch = Signal(object)
    _watched_text = Signal(object)  # OcrReport: text read in new pictures
    _watch_error = Signal(str)

    def __init__(self, controller: Controller, *, watch: bool) -> None:
        super().__init__(controller)
        self.c = controller
        self.watch = watch  # follow the folders live once the first scan is done
        self.watcher: Watcher | None = None
        self.indexing = False
        self._pending: IndexJob | None = None
        self._watched_batch.connect(self._on_watched_batch)
        self._watched_text.connect(self._on_watched_text)
        self._watch_error.connect(lambda message: self.c.say(f"Watching: {message}"))

    def queue(self, job: IndexJob) -> None:
        """Folder changes and rescans run on the index thread, one after another. Not
        while the model loads (it reindexes once loaded); without the model, names and
        text are indexed and its vectors added once it is here."""
        job.index = self.c.model_phase is not ModelPhase.LOADING
        if self.indexing:
            if self._pending is None:
                self._pending = job
            else:
                self._pending.merge(job)
            if job.add or job.remove:
                # Stop the current run at its next batch; the next run picks up from there.
                self.c.index_worker.cancel()
            return
        self.indexing = True
        self.c.index_requested.emit(job)

    def toggle_pause(self) -> bool:
        worker = self.c.index_worker
        if worker.paused:
            worker.resume()
            self.c.status.emit("Indexing resumed")
        else:
            worker.pause()
            self.c.status.emit("Indexing paused \u2014 searches use what is indexed so far")
        return worker.paused

    # -- what the index thread reports ----------------------------------------------------

    def on_progress(self, p: IndexProgress) -> None:
        status = self.c.status
        self.c.progress.emit(p)
        if p.phase == "scanning":
            status.emit("Looking for new and changed files\u2026")
        elif p.phase == "reading text":
            status.emit(
                f"Reading text in pictures\u2026 {p.done:,} looked at (searches already work)"
            )
        elif p.phase == "embedding" and p.total:
            rate = p.rate
            left = f" \u00b7 {_duration((p.total - p.done) / rate)} left" if rate > 0 else ""
            status.emit(f"Indexing {p.done:,} / {p.total:,} \u00b7 {rate:.1f} files/s{left}")

    def on_finished(self, report: IndexReport | None) -> None:
        c = self.c
        self.indexing = False
        c.indexing_finished.emit()
        self.start_watching()
        if report is not None:
            for error in report.errors:
                c.log.emit(f"{error.path}: {error.reason}")
            changed = report.added + report.updated + report.removed + report.moved
            summary = (
                f"Index up to date: {report.added:,} added, {report.updated:,} updated, "
                f"{report.removed:,} removed"
            )
            if report.errors:
                summary += f", {len(report.errors):,} could not be read (see Log)"
            if report.model_missing:
                summary += " \u2014 searching names and text until the model is here"
            c.status.emit(summary)
            if changed:
                c.search_again()  # show what was just indexed
        c.folders_changed.emit()
        self._run_pending()

    def on_failed(self, exc: Exception) -> None:
        self.indexing = False
        self.c.indexing_finished.emit()
        self.c.report_failure("Indexing stopped", exc)
        self._run_pending()

    def _run_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.queue(pending)

    # -- following the folders live ---------------------------------------------------------

    def start_watching(self) -> None:
        """After the first full scan, follow changes live (a read-only library cannot)."""
        c = self.c
        if (
            self.watcher is not None
            or not self.watch
            or not c.library.writable
            or not c.model_ready
            or c.shut_down
        ):
            return
        # It also reads the text in new pictures (OCR) once their batch is indexed.
        self.watcher = c.library.watch(
            on_batch_indexed=self._watched_batch.emit,
            on_error=self._watch_error.emit,
            read_text=True,
            on_text_read=self._watched_text.emit,
        )
        self.watcher.start()

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _on_watched_batch(self, batch: WatchBatch) -> None:
        c = self.c
        if not batch.changed:
            return
        report = batch.report
        for error in report.errors:
            c.log.emit(f"{error.path}: {error.reason}")
        c.status.emit(
            f"Updated the index: {report.added:,} added, {report.updated:,} "
            f"changed, {report.moved:,} moved, {report.removed:,} removed"
        )
        c.folders_changed.emit()
        if c.has_query():
            c.search_again()

    def _on_watched_text(self, report: OcrReport) -> None:
        if report.unavailable:
            self.c.say(f"Text in pictures is not read: {report.unavailable}")
        elif report.with_text and self.c.has_query():
            self.c.search_again()  # the words just read may match


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
