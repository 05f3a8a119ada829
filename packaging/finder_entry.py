"""The frozen app's entry script (PyInstaller runs a script, not a console_scripts entry
point): the same `finder` as `pip install` gives, the window or the CLI."""

import sys

from finder.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
