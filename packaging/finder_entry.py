"""The frozen app's entry script (PyInstaller runs a script, not a console_scripts entry
point): the same `finder` as `pip install` gives, the window or the CLI."""

import os
import sys

from finder import desktop_check
from finder.__main__ import main


def give_children_the_systems_libraries() -> None:
    """On Linux the bootloader points LD_LIBRARY_PATH at the bundle's libraries (the
    original saved in LD_LIBRARY_PATH_ORIG). This process has read it already; the programs
    finder starts (xdg-open, the file manager, the viewer a file opens in) must not load
    the bundle's copies of GTK, libstdc++ and the rest instead of their own."""
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def frozen_linux_main() -> int:
    """finder.__main__.main, with the libraries given back between the desktop check
    (whose `ldd` must see the bundle's libraries, as Qt does) and the window."""
    if len(sys.argv) > 1:
        give_children_the_systems_libraries()
        return main()
    problem = desktop_check.check()
    give_children_the_systems_libraries()
    if problem is not None:
        print(problem.message, file=sys.stderr)
        return 1
    from finder import app

    return app.main(sys.argv)


if __name__ == "__main__":
    if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
        sys.exit(frozen_linux_main())
    sys.exit(main())
