"""The journal of the files a run is reading: what a dead run leaves, and what is made of it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finder.core.indexing import attempts as attempts_module
from finder.core.indexing.attempts import Attempts, Suspect, merge, suspects_in


def _lines(*entries: list[object]) -> list[str]:
    return [json.dumps(e) for e in entries]


# -- reading a dead run's journal ------------------------------------------------------------


def test_a_file_started_and_not_ended_is_a_suspect() -> None:
    lines = _lines(
        ["start", "/p/a.jpg", 10.0, 0],
        ["start", "/p/b.txt", 10.5, 0],
        ["end", "/p/a.jpg", 10.6],
        ["alive", 17.5],
    )
    assert suspects_in(lines) == {"/p/b.txt": Suspect("/p/b.txt", deaths=1, stuck_s=7.0)}


def test_every_line_with_a_time_is_a_sign_of_life() -> None:
    lines = _lines(
        ["start", "/p/stuck.html", 10.0, 0],
        ["start", "/p/a.jpg", 11.0, 0],
        ["end", "/p/a.jpg", 12.5],  # another thread went on
    )
    assert suspects_in(lines)["/p/stuck.html"].stuck_s == 2.5


def test_a_run_killed_at_once_leaves_a_suspect_stuck_for_no_time() -> None:
    assert suspects_in(_lines(["start", "/p/a.jpg", 10.0, 0])) == {
        "/p/a.jpg": Suspect("/p/a.jpg", 1, 0.0)
    }


def test_a_clean_journal_has_no_suspects() -> None:
    lines = _lines(["start", "/p/a.jpg", 1.0, 0], ["end", "/p/a.jpg", 2.0], ["alive", 3.0])
    assert suspects_in(lines) == {}
    assert suspects_in([]) == {}


def test_a_suspect_read_again_when_its_second_run_died() -> None:
    lines = _lines(
        ["carried", "/p/x.docx", 1, 0.2],
        ["start", "/p/other.jpg", 5.0, 0],
        ["end", "/p/other.jpg", 5.1],
        ["start", "/p/x.docx", 6.0, 1],
    )
    assert suspects_in(lines) == {"/p/x.docx": Suspect("/p/x.docx", 2, 0.0)}


def test_a_carried_suspect_stays_until_it_is_dealt_with() -> None:
    carried = _lines(["carried", "/p/x.docx", 1, 0.2], ["alive", 9.0])
    assert suspects_in(carried) == {"/p/x.docx": Suspect("/p/x.docx", 1, 0.2)}
    ended = carried + _lines(["end", "/p/x.docx", 9.5])
    assert suspects_in(ended) == {}


def test_a_suspect_read_to_the_end_is_cleared() -> None:
    lines = _lines(["carried", "/p/x.docx", 1, 0.2], ["start", "/p/x.docx", 6.0, 1])
    lines += _lines(["end", "/p/x.docx", 6.1])
    assert suspects_in(lines) == {}


def test_lines_that_cannot_be_read_are_skipped() -> None:
    lines = [
        '["start", "/p/a.jpg", 1.0, 0]',
        "not json",
        "[]",
        '["start", "/p/b.jpg"]',  # too short
        '["start", "/p/c.jpg", "soon", 0]',  # not a time
        '["what", 1]',
        '["end", "/p/a.jp',  # the line being written when the process died
    ]
    assert suspects_in(lines) == {"/p/a.jpg": Suspect("/p/a.jpg", 1, 0.0)}


def test_paths_keep_any_character() -> None:
    odd = "/p/new\nline \u00e9\udcff.txt"  # a newline, and a name that is not UTF-8
    lines = [json.dumps(["start", odd, 1.0, 0])]
    assert list(suspects_in(lines)) == [odd]


def test_merging_keeps_the_worst_of_both() -> None:
    a, b = Suspect("/p/a", 1, 9.0), Suspect("/p/a", 2, 0.5)
    assert merge(a, b) == Suspect("/p/a", 2, 9.0)
    assert merge(None, b) == b


@pytest.mark.parametrize(
    ("deaths", "stuck_s", "skipped"),
    [(1, 0.0, False), (1, 4.9, False), (1, 5.0, True), (2, 0.0, True), (3, 0.0, True)],
)
def test_which_suspects_are_skipped(deaths: int, stuck_s: float, skipped: bool) -> None:
    assert Suspect("/p/a", deaths, stuck_s).skipped(stalled_after_s=5.0) is skipped


# -- the journals in the data dir ------------------------------------------------------------


def _dead_journal(folder: Path, name: str, *entries: list[object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


def test_a_clean_run_leaves_nothing(tmp_path: Path) -> None:
    journal = Attempts(tmp_path / "in-progress")
    assert journal.open() == {}
    journal.started("/p/a.jpg")
    journal.ended("/p/a.jpg")
    journal.alive()
    journal.close()
    assert list((tmp_path / "in-progress").iterdir()) == []


def test_a_dead_runs_suspects_are_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    dead = _dead_journal(folder, "1-1-1", ["start", "/p/x.docx", 1.0, 0], ["alive", 8.0])
    journal = Attempts(folder)
    assert journal.open() == {"/p/x.docx": Suspect("/p/x.docx", 1, 7.0)}
    assert not dead.exists()  # taken over: this run's journal carries them now
    (mine,) = folder.iterdir()
    assert suspects_in(mine.read_text().splitlines()) == {"/p/x.docx": Suspect("/p/x.docx", 1, 7.0)}
    journal.close()
    assert list(folder.iterdir()) == [mine]  # not dealt with: the next run reads it
    assert Attempts(folder).open() == {"/p/x.docx": Suspect("/p/x.docx", 1, 7.0)}


def test_suspects_dealt_with_are_not_passed_on(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    _dead_journal(folder, "1-1-1", ["start", "/p/x.docx", 1.0, 0], ["start", "/p/y.pdf", 1.0, 0])
    journal = Attempts(folder)
    assert set(journal.open()) == {"/p/x.docx", "/p/y.pdf"}
    journal.resolved("/p/x.docx")  # recorded as an error
    journal.started("/p/y.pdf", 1)  # read once more
    journal.ended("/p/y.pdf")
    journal.close()
    assert list(folder.iterdir()) == []


def test_a_live_runs_journal_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    first = Attempts(folder)
    first.open()
    first.started("/p/being-read.jpg")
    second = Attempts(folder)  # another run in the same process (a switch beside a watcher)
    assert second.open() == {}
    second.close()
    first.ended("/p/being-read.jpg")
    first.close()
    assert list(folder.iterdir()) == []


def test_several_dead_journals_are_merged(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    _dead_journal(folder, "1-1-1", ["start", "/p/x", 1.0, 0], ["alive", 9.0])
    _dead_journal(folder, "2-1-1", ["start", "/p/x", 1.0, 1], ["start", "/p/y", 1.0, 0])
    found = Attempts(folder).open()
    assert found == {"/p/x": Suspect("/p/x", 2, 8.0), "/p/y": Suspect("/p/y", 1, 0.0)}


def test_a_compaction_cut_short_is_cleaned_up(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    _dead_journal(folder, "1-1-1.new", ["start", "/p/x", 1.0, 0])
    journal = Attempts(folder)
    assert journal.open() == {}
    journal.close()
    assert list(folder.iterdir()) == []


def test_a_long_run_keeps_its_journal_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attempts_module, "COMPACT_BYTES", 2000)
    folder = tmp_path / "in-progress"
    journal = Attempts(folder)
    journal.open()
    journal.started("/p/slow.pdf")
    for i in range(200):
        journal.started(f"/p/{i}.jpg")
        journal.ended(f"/p/{i}.jpg")
    (path,) = folder.iterdir()
    assert path.stat().st_size < 4000
    assert suspects_in(path.read_text().splitlines()).keys() == {"/p/slow.pdf"}
    # Still locked after the rewrite: another run sees a live journal.
    other = Attempts(folder)
    assert other.open() == {}
    other.close()
    journal.ended("/p/slow.pdf")
    journal.close()
    assert list(folder.iterdir()) == []


def test_a_data_dir_that_cannot_take_it_is_no_reason_to_stop(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    journal = Attempts(blocked / "in-progress")
    assert journal.open() == {}
    journal.started("/p/a.jpg")
    journal.ended("/p/a.jpg")
    journal.alive()
    journal.close()


def test_the_heartbeat_is_throttled(tmp_path: Path) -> None:
    journal = Attempts(tmp_path, heartbeat_s=3600)
    journal.open()
    for _ in range(5):
        journal.alive()
    (path,) = tmp_path.iterdir()
    assert sum('"alive"' in line for line in path.read_text().splitlines()) == 1
    journal.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to die holding the lock")
def test_a_journal_of_a_process_that_died_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "in-progress"
    pid = os.fork()
    if pid == 0:  # the child: starts reading a file and dies at once, holding its lock
        journal = Attempts(folder)
        journal.open()
        journal.started("/p/poison.html")
        os._exit(9)
    os.waitpid(pid, 0)
    assert Attempts(folder).open() == {"/p/poison.html": Suspect("/p/poison.html", 1, 0.0)}
