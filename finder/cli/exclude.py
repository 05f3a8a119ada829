"""`finder exclude add|remove|list`: folders and files left out of the index and of
searches (what a pattern means: finder.core.ingest.exclusions)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from finder.cli.common import EXIT_FAILURE, EXIT_OK, Command, open_library
from finder.core.ingest.exclusions import Exclusion, ExclusionError
from finder.core.models.spec import ModelSpec

PATTERN_HELP = (
    "a folder or file path (~/Pictures/private), a name or glob matched at any depth "
    "(node_modules, *.tmp, Screenshots), or a path below the watched folder (2019/raw)"
)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "exclude",
        parents=[common],
        help="leave folders or files out of the index and of searches: add, remove, list",
    )
    actions = p.add_subparsers(dest="exclude_action", metavar="ACTION", required=True)
    # The data dir may also follow the action (SUPPRESS: given before it, it is kept).
    late = argparse.ArgumentParser(add_help=False)
    late.add_argument("--data-dir", default=argparse.SUPPRESS)
    folder_help = "only in this watched folder (default: in every one)"
    q = actions.add_parser(
        "add", parents=[late], help="leave a pattern out: hidden from searches at once"
    )
    q.add_argument("pattern", help=PATTERN_HELP)
    q.add_argument("--folder", help=folder_help)
    q = actions.add_parser("remove", parents=[late], help="read what a pattern left out again")
    q.add_argument("pattern")
    q.add_argument("--folder", help="the watched folder it was added for")
    q = actions.add_parser("list", parents=[late], help="the patterns left out")
    q.add_argument("--json", action="store_true", help="list as JSON")


def cmd_exclude(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    # Not the writer: an exclusion is one row, which the indexer (a watcher's too) reads at
    # the start of each run, so it can be added while `finder watch` or the app runs.
    library = open_library(args, spec, writable=False)
    try:
        if args.exclude_action == "list":
            print_exclusions(library.exclusions(), args.json, out)
            return EXIT_OK
        if args.exclude_action == "add":
            before = library.exclusions()
            added = library.add_exclusion(args.pattern, args.folder)
            where = f"in {added.folder}" if added.folder else "in every watched folder"
            if added in before:
                print(f"{added.pattern} was already left out {where}", file=out)
            else:
                print(
                    f"leaving out {added.pattern} {where}: hidden from searches now, dropped "
                    "from the index by the next `finder index` (your files are untouched)",
                    file=out,
                )
            return EXIT_OK
        if library.remove_exclusion(args.pattern, args.folder):
            print(
                f"no longer leaving out {args.pattern}; `finder index` reads it again",
                file=out,
            )
            return EXIT_OK
        where = f" in {args.folder}" if args.folder else " for every folder"
        print(
            f"finder: error: {args.pattern} is not left out{where} (see `finder exclude list`)",
            file=err,
        )
        return EXIT_FAILURE
    except ExclusionError as exc:
        print(f"finder: error: {exc}", file=err)
        return EXIT_FAILURE
    finally:
        library.close()


def print_exclusions(exclusions: list[Exclusion], as_json: bool, out: TextIO) -> None:
    if as_json:
        rows = [{"pattern": e.pattern, "folder": e.folder} for e in exclusions]
        json.dump(rows, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    if not exclusions:
        print("nothing is left out: `finder exclude add PATTERN` leaves a pattern out", file=out)
        return
    width = max(len(e.pattern) for e in exclusions)
    for e in exclusions:
        print(f"{e.pattern:<{width}}  {f'in {e.folder}' if e.folder else 'everywhere'}", file=out)


COMMANDS: dict[str, Command] = {"exclude": cmd_exclude}
