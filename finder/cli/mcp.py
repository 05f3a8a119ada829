"""`finder mcp`: the library as a read-only Model Context Protocol server on stdio, for
an assistant (finder.mcp). stdout is the protocol's: everything else goes to stderr."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from finder.cli.common import EXIT_FAILURE, EXIT_OK, Command, open_library
from finder.core.models.spec import ModelSpec

INSTALL_HINT = "finder mcp needs the MCP SDK: pip install 'finder[mcp]'"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "mcp",
        parents=[common],
        help="serve the library to an assistant over MCP (stdio, read-only)",
        description="A Model Context Protocol server on stdin/stdout with the read-only "
        "tools search, search_by_image, similar and status. It opens the data dir "
        "without the writer lock, so it runs beside the app or `finder watch`.",
    )


def cmd_mcp(args: argparse.Namespace, spec: ModelSpec, out: TextIO, err: TextIO) -> int:
    try:
        # The SDK is an optional extra: imported only by the command that needs it.
        from finder.mcp.server import serve
    except ImportError as exc:
        print(f"finder: error: {INSTALL_HINT} ({exc})", file=err)
        return EXIT_FAILURE
    library = open_library(args, spec, writable=False)
    try:
        serve(library)
    finally:
        library.close()
    return EXIT_OK


COMMANDS: dict[str, Command] = {"mcp": cmd_mcp}
