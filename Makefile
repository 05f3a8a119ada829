# Two entry points: `make run` (set up, then start finder) and `make test` (set up, then test).
# .ci/run calls `make test` and then `make lint`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean package install-desktop uninstall-desktop

setup: $(STAMP)

# torch/torchvision: the CPU-usable pair that pip installs from this platform's local disk.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e '.[torch,langchain,mcp,test]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/finder $(ARGS)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

# The rules of ARCHITECTURE.md: lint, format, the import layers, the core's types.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# The app as one folder, dist/finder (packaging/finder.spec: PyInstaller, no torch inside).
# Its smoke test: $(PY) packaging/smoke_test.py (offscreen, no virtual environment on PATH).
package: setup
	$(PY) -m pip install --quiet -e '.[package]'
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/finder.spec

# The menu entry and icon for this user (XDG): the bundle when built, else the venv's finder.
FINDER_EXEC ?= $(firstword $(wildcard $(CURDIR)/dist/finder/finder) $(CURDIR)/$(VENV)/bin/finder)
install-desktop:
	sh packaging/desktop.sh install "$(FINDER_EXEC)"

uninstall-desktop:
	sh packaging/desktop.sh uninstall

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .import_linter_cache build dist *.egg-info
