"""`finder duplicates`: files that are the same shot, the copy to keep, the space the
others take. finder only lists them: it never moves or deletes a file."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from finder.cli.common import EXIT_OK, Command, open_library, size
from finder.core.models.spec import ModelSpec
from finder.core.types import DuplicateFile, DuplicateGroup, display_path


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "duplicates",
        parents=[common],
        help="files that are the same shot (the same bytes, resized or recompressed copies, "
        "bursts), with the copy to keep",
    )
    p.add_argument("--json", action="store_true")


def cmd_duplicates(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    library = open_library(args, spec, writable=False)
    try:
        groups = library.duplicates()
    finally:
        library.close()
    if args.json:
        json.dump([group_json(g) for g in groups], out, indent=2, ensure_ascii=False)
        out.write("\n")
        return EXIT_OK
    print_groups(groups, out)
    return EXIT_OK


def group_json(group: DuplicateGroup) -> dict[str, object]:
    """A group as JSON: the keeper, the other copies, every file with its details."""
    return {
        **group.to_json(),
        "copies": [display_path(f.path) for f in group.files[1:]],
    }


def print_groups(groups: list[DuplicateGroup], out: TextIO) -> None:
    if not groups:
        print("No duplicates: every photo and file is there once.", file=out)
        return
    total = sum(g.reclaimable for g in groups)
    files = sum(len(g.files) for g in groups)
    print(
        f"{len(groups)} group{'s' if len(groups) != 1 else ''} of duplicates ({files} files); "
        f"the copies finder would not keep take {size(total)}.",
        file=out,
    )
    print("finder never deletes anything: remove the copies you do not want yourself.", file=out)
    for number, group in enumerate(groups, 1):
        what = "the same bytes" if group.exact else "the same shot"
        print(
            f"\n{number}. {what}, {len(group.files)} files, {size(group.reclaimable)} in copies",
            file=out,
        )
        for f in group.files:
            print(f"   {'keep' if f.keep else '    '}  {_line(f)}", file=out)


def _line(f: DuplicateFile) -> str:
    pixels = f"{f.width}x{f.height}" if f.width and f.height else "?"
    return (
        f"{display_path(f.path)}  ({pixels}, {f.file_format or '?'}, {size(f.size)}, "
        f"{(f.taken or '?')[:10]})"
    )


COMMANDS: dict[str, Command] = {"duplicates": cmd_duplicates}
