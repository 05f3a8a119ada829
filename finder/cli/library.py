"""`finder index`, `search`, `status` and `remove`: the library's folders and what is in them."""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from finder.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Command,
    ProgressPrinter,
    cancel_on_interrupt,
    interrupt_sets,
    model_missing_note,
    open_library,
    positive_int,
    run_faster,
)
from finder.cli.filter_flags import add_filter_flags, filters_from_args
from finder.core.library import FolderError, Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.types import (
    IndexReport,
    SearchKind,
    SearchResult,
    SwitchOutcome,
    display_path,
)


def add_index_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("index", parents=[common], help="add folders and index them")
    p.add_argument("folders", nargs="*", help="folders to add (default: re-index all)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--no-ocr",
        action="store_true",
        help="skip reading the text in pictures after indexing (done next time)",
    )


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """search, status, remove (after `index` and `watch` in the help)."""
    p = sub.add_parser("search", parents=[common], help="search by text or by image")
    p.add_argument("query", nargs="?", help="what you are looking for")
    p.add_argument("--image", help="search with this image instead of text")
    p.add_argument(
        "--kind",
        choices=[k.value for k in SearchKind],
        help="photos, docs or all (default)",  # None: as the words say ("screenshots"), else all
    )
    p.add_argument("-k", type=positive_int, default=10, help="how many results (default 10)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help="also show the clearly irrelevant tail (hidden by default)",
    )
    add_filter_flags(p)
    p.add_argument(
        "--parse",
        action="store_true",
        help="print what the query was understood as (JSON: meaning, after, before, place, "
        "kind, exclude) without searching",
    )
    p.add_argument(
        "--literal",
        action="store_true",
        help="take the query word for word: no dates, places, kinds or exclusions read from it",
    )

    p = sub.add_parser("status", parents=[common], help="folders, counts, model, index health")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "remove",
        parents=[common],
        help="stop watching a folder and drop it from the index (files untouched)",
    )
    p.add_argument("folders", nargs="+")


# -- commands --------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = open_library(args, spec, writable=True)
    try:
        library.switch.remember_first(spec)
        roots = [library.add_folder(folder) for folder in args.folders]
        run_faster(args, library, err)
        cancel = threading.Event()
        with interrupt_sets(cancel, cancel_on_interrupt(cancel, err)):
            printer = None if args.quiet else ProgressPrinter(err)
            report = library.index(
                [r.path for r in roots],
                progress=printer,
                cancel=cancel,
                read_text=not args.no_ocr,
            )
            print_report(report, out)
            if report.model_missing:
                print(model_missing_note(spec, report.model_missing), file=out)
            if not report.cancelled:
                report.cancelled = _continue_switch(library, printer, cancel, out)
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
        return EXIT_INTERRUPTED if report.cancelled else EXIT_OK
    finally:
        library.close()


def _continue_switch(
    library: Library, printer: ProgressPrinter | None, cancel: threading.Event, out: TextIO
) -> bool:
    """A model switch in progress: embed what the new model still lacks. True if stopped."""
    pending = library.switch.pending()
    if pending is None:
        return False
    if pending.on_hold:
        print(f"Switching to {pending.label} is on hold: {pending.on_hold}", file=out)
        return False
    run = library.switch.run(progress=printer, cancel=cancel)
    if run is None:
        return False
    if run.outcome is SwitchOutcome.ON_HOLD:
        print(f"Switching to {run.label} is on hold: {run.reason}", file=out)
        return False
    done = "it now answers searches" if run.taken_over else "not complete yet"
    print(f"Switching to {run.label}: {run.reembedded:,} files re-embedded; {done}", file=out)
    return run.cancelled


def cmd_search(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    if bool(args.query) == bool(args.image):
        print("finder: error: give either a text query or --image PATH", file=err)
        return EXIT_USAGE
    if args.parse and args.image:
        print("finder: error: --parse reads a text query, not --image", file=err)
        return EXIT_USAGE
    library = open_library(args, spec, writable=False)
    try:
        kind = SearchKind(args.kind or SearchKind.ALL.value)
        filters = filters_from_args(args)
        if args.query:
            # The words' dates, place, kind and exclusions; the flags win over them.
            asked = SearchKind(args.kind) if args.kind else None
            understood = library.interpret(args.query, asked, filters, literal=args.literal)
            if args.parse:
                json.dump(understood.to_json(), out, indent=2, ensure_ascii=False)
                out.write("\n")
                return EXIT_OK
            kind, filters = understood.filters.kind or SearchKind.ALL, understood.filters
            args.query = understood.searched
        if args.image:
            image = Path(args.image).expanduser()
            if not image.is_file():
                raise FolderError(f"{image}: no such image file")
            results = library.search_image(image, kind, args.k, tail=args.show_all, filters=filters)
        else:
            results = _search_text(library, spec, args, kind, err, filters)
        if args.json:
            json.dump([r.to_json() for r in results], out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            print_results(results, out)
        return EXIT_OK
    finally:
        library.close()


def _search_text(
    library: Library,
    spec: ModelSpec,
    args: argparse.Namespace,
    kind: SearchKind,
    err: TextIO,
    filters: Filters = NO_FILTERS,
) -> list[SearchResult]:
    """By meaning and keywords; by keywords alone (file names, text) while the library's
    model is missing, saying so. A model asked for by name (--model, FINDER_MODEL) that is
    missing is an error: the user wants that model's answer."""
    missing = library.model_missing()
    if not missing:
        try:
            return library.search_text(
                args.query, kind, args.k, tail=args.show_all, filters=filters
            )
        except ModelUnavailableError as exc:
            missing = str(exc)
    if args.model or args.pretrained:
        raise ModelUnavailableError(missing)
    print(model_missing_note(spec, missing), file=err)
    return library.search_keyword(args.query, kind, args.k, filters=filters)


def cmd_status(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = open_library(args, spec, writable=False)
    try:
        status = library.status()
    finally:
        library.close()
    runtime = library.runtime()
    if args.json:
        text = json.dumps(
            {
                **asdict(status),
                "precision": runtime.precision,
                "runtime": runtime.runtime,
                "precision_detail": runtime.detail,
                "device": runtime.device,
                "device_fallback": runtime.device_fallback,
            },
            indent=2,
            ensure_ascii=False,
        )
        out.write(display_path(text))  # a name that is not valid UTF-8 shows U+FFFD
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
    print(f"precision  {runtime.detail}", file=out)
    fell_back = f" (fell back: {runtime.device_fallback})" if runtime.device_fallback else ""
    print(f"device     {runtime.device}{fell_back}", file=out)
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
        print(f"error      {display_path(path)}: {reason}", file=out)
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = open_library(args, spec, writable=True)
    try:
        for folder in args.folders:
            removed = library.remove_folder(folder)
            print(
                f"removed {folder} from the index ({removed:,} files); its files are untouched",
                file=out,
            )
    finally:
        library.close()
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "index": cmd_index,
    "search": cmd_search,
    "status": cmd_status,
    "remove": cmd_remove,
}


# -- output ------------------------------------------------------------------------------


def print_report(report: IndexReport, out: TextIO) -> None:
    print(
        f"{report.scanned:,} files seen: {report.added:,} added, {report.updated:,} updated, "
        f"{report.moved:,} moved, {report.removed:,} removed, {report.unchanged:,} unchanged; "
        f"{report.items_embedded:,} items embedded in {report.elapsed_s:.1f} s",
        file=out,
    )
    if report.errors:
        print(f"{len(report.errors):,} could not be indexed:", file=out)
        for error in report.errors[:20]:
            print(f"  {display_path(error.path)}: {error.reason}", file=out)
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


def print_results(results: list[SearchResult], out: TextIO) -> None:
    if not results:
        print("No results. Is anything indexed? See `finder status`.", file=out)
        return
    for rank, r in enumerate(results, 1):
        page = f"  (page {r.page})" if r.page else ""
        path = display_path(r.path)
        print(
            f"{rank:3d}. {r.score:6.3f}  {r.match or '':<6}  {r.kind.value:<8}  {path}{page}",
            file=out,
        )
        if r.snippet:
            snippet = r.snippet if len(r.snippet) <= 160 else r.snippet[:157] + "..."
            print(f"{'':14}\u201c{snippet}\u201d", file=out)
        if r.matched_terms or len(r.signals) > 1:
            words = f"matched: {', '.join(r.matched_terms)}; " if r.matched_terms else ""
            print(f"{'':14}{words}found by {', '.join(r.signals)}", file=out)
        if r.copies:  # the same shot elsewhere: `finder duplicates` lists them
            copies = f"+{len(r.copies)} cop{'y' if len(r.copies) == 1 else 'ies'}"
            print(f"{'':14}{copies}: {', '.join(display_path(p) for p in r.copies)}", file=out)
        remembered = [r.taken[:10] if r.taken and r.taken_source != "file" else None]
        remembered += [r.place, r.camera]  # (a file's own date is not worth a line)
        if any(remembered):
            print(" " * 14 + " \u00b7 ".join(x for x in remembered if x), file=out)
