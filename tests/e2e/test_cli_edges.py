"""The command line at its edges: a closed pipe, a data dir that is a file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from finder import cli
from tests.helpers import TINY_CONFIG, write_text

MODEL = ["--model", str(TINY_CONFIG), "--pretrained", "none"]


def test_a_data_dir_that_is_a_file_is_one_clear_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "passwd"
    not_a_dir.write_text("root:x:0:0\n")
    err = io.StringIO()
    code = cli.main(["status", "--data-dir", str(not_a_dir), *MODEL], stderr=err)
    assert code == 1
    assert err.getvalue().startswith(f"finder: error: {not_a_dir} is a file, not a folder")
    assert "Errno" not in err.getvalue()
    assert not_a_dir.read_text() == "root:x:0:0\n"  # untouched


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    docs = tmp_path / "Documents"
    write_text(docs / "a.txt", "receipt from the hardware store")
    data = ["--data-dir", str(tmp_path / "data"), *MODEL]
    assert cli.main(["index", "-q", str(docs), *data], stdout=io.StringIO()) == 0
    err = io.StringIO()
    code = cli.main(["search", "receipt", "--json", *data], stdout=ClosedPipe(), stderr=err)
    assert code == 0
    assert "Broken pipe" not in err.getvalue()


def test_search_piped_into_head_exits_cleanly(tmp_path: Path) -> None:
    docs = tmp_path / "Documents"
    for n in range(30):
        write_text(docs / f"note{n}.txt", f"receipt number {n} from the hardware store")
    env = {**os.environ, "FINDER_DATA_DIR": str(tmp_path / "data")}
    finder = [sys.executable, "-m", "finder"]
    subprocess.run([*finder, "index", "-q", str(docs), *MODEL], env=env, check=True, timeout=300)
    done = subprocess.run(
        f"{' '.join(finder)} search receipt -k 30 --json {' '.join(MODEL)} | head -c 1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Broken pipe" not in done.stderr
    assert "Traceback" not in done.stderr
