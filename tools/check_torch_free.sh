#!/usr/bin/env bash
# The base install runs without torch (issue #19): a fresh virtual environment gets
# `pip install ROOT` (not editable, no extras); torch must not be importable; a model
# folder written by `finder models export` from the development venv (.venv, which has
# the torch extra) must index and search there; `finder --version` and the icon (package
# data) must be in the installed wheel. Prints the base install's size at the end.
#
#   tools/check_torch_free.sh [VENV]      (default /tmp/notorch; PYTHON=python3.11 to choose)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${1:-/tmp/notorch}
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"  # not the source tree: `python -c` would import finder from there

echo "== fresh venv $VENV, pip install $ROOT (no extras)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "$ROOT"
if "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    echo "FAIL: torch is importable in the base install" >&2
    exit 1
fi
echo "ok: torch is not installed"
"$VENV/bin/finder" --version
"$VENV/bin/python" -c '
import importlib.resources as r
icon = r.files("finder.ui") / "resources" / "finder.svg"
assert icon.is_file(), icon
print("ok: the icon is in the installed package:", icon)'

echo "== a model folder written by finder models export (from $ROOT/.venv)"
"$ROOT/.venv/bin/finder" models export "$ROOT/tests/models/finder-tiny.json" "$WORK/model"

echo "== index and search with the base install"
mkdir -p "$WORK/pictures"
"$VENV/bin/python" -c '
import sys
from PIL import Image, ImageDraw
for name in ("red", "green", "blue"):
    img = Image.new("RGB", (160, 120), (235, 235, 225))
    ImageDraw.Draw(img).ellipse((40, 30, 120, 90), fill=name)
    img.save(f"{sys.argv[1]}/{name}.png")' "$WORK/pictures"
export FINDER_DATA_DIR="$WORK/data"
"$VENV/bin/finder" --model "$WORK/model" index "$WORK/pictures"
"$VENV/bin/finder" --model "$WORK/model" search "a red circle" --json > "$WORK/results.json"
"$VENV/bin/python" -c '
import json, sys
results = json.load(open(sys.argv[1]))
assert len(results) == 3, results
print("ok: search answered:", ", ".join(r["path"].rsplit("/", 1)[-1] for r in results))' "$WORK/results.json"
"$VENV/bin/python" -c '
import sys
import finder.cli
assert "torch" not in sys.modules
print("ok: no torch in the process")'

echo "== base install size (site-packages)"
du -sh "$VENV"/lib/python3*/site-packages
echo "PASS"
