"""`python -m finder` / `finder`: the CLI when given a command, else the desktop app."""

from __future__ import annotations

import sys


def main() -> int:
    from finder import cli

    # The desktop window (issue: the desktop app) is not built yet; until it is, no
    # arguments shows the CLI's help.
    return cli.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
