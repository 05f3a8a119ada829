"""`python -m finder` / `finder`: the desktop app, or the CLI when given a command."""

from __future__ import annotations

import sys

from finder import desktop_check


def main() -> int:
    # Imported here, not at the top: a command must not wait for Qt (finder.app) to load.
    if len(sys.argv) > 1:
        from finder import cli

        return cli.main(sys.argv[1:])
    problem = desktop_check.check()  # before Qt, which aborts (exit 134) without a display
    if problem is not None:
        print(problem.message, file=sys.stderr)
        return 1
    from finder import app

    return app.main(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
