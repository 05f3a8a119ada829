"""The watcher's change queue: debounce, writers, bursts, moves, coalescing. Pure: time is
passed in, so every case is exact."""

from __future__ import annotations

import math

import pytest

from finder.core.indexing.change_queue import (
    IMPLIED_MOVE_WINDOW,
    Batch,
    ChangeQueue,
    QueueTiming,
)

TIMING = QueueTiming(quiet_s=1.0, max_delay_s=10.0, write_wait_s=60.0, folder_paths=3)
ROOT = "/photos"


def queue() -> ChangeQueue:
    return ChangeQueue(TIMING)


# -- nothing to do -----------------------------------------------------------------------


def test_an_empty_queue_has_nothing_and_no_deadline() -> None:
    q = queue()
    assert not q
    assert q.take(100.0, [ROOT]) == (None, math.inf)


def test_default_timing() -> None:
    q = ChangeQueue()
    assert q.timing == QueueTiming(1.0, 10.0, 60.0, 32)


# -- debounce ----------------------------------------------------------------------------


def test_a_change_is_ready_once_quiet() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 10.0)
    assert q and q.marks == 1
    batch, wait = q.take(10.4, [ROOT])
    assert batch is None and wait == pytest.approx(0.6)
    batch, wait = q.take(11.0, [ROOT])
    assert batch == Batch(["/photos/a.jpg"], []) and wait == 0.0
    assert not q and q.first is None
    assert q.take(11.0, [ROOT]) == (None, math.inf)


def test_a_new_event_restarts_the_quiet_time() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 10.0)
    q.changed("/photos/a.jpg", 10.8)
    assert q.take(11.5, [ROOT]) == (None, pytest.approx(0.3))
    batch, _ = q.take(11.8, [ROOT])
    assert batch is not None and batch.paths == ["/photos/a.jpg"]
    assert q.marks == 2


def test_the_wait_never_drops_below_ten_milliseconds() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 10.0)
    assert q.take(10.9999, [ROOT]) == (None, 0.01)


def test_an_overdue_queue_hands_out_only_its_quiet_paths() -> None:
    q = queue()
    for i in range(12):  # an event every 0.9 s: never quiet for a whole second
        q.changed(f"/photos/{i}.jpg", 10.0 + 0.9 * i)
    batch, _ = q.take(10.0 + 0.9 * 11 + 0.1, [])  # 10 s after the first: overdue
    assert batch is not None
    assert batch.paths == sorted(f"/photos/{i}.jpg" for i in range(11))  # not the newest
    assert list(q.pending) == ["/photos/11.jpg"]
    assert q.first == pytest.approx(10.0 + 0.9 * 11)


# -- writers -----------------------------------------------------------------------------


def test_a_file_being_written_waits_for_its_close() -> None:
    q = queue()
    q.changed("/photos/big.png", 10.0, writing=True)
    q.changed("/photos/small.png", 10.0)
    batch, _ = q.take(12.0, [ROOT])
    assert batch is not None and batch.paths == ["/photos/small.png"]
    assert q.writing == {"/photos/big.png"}
    # Nothing else is ready: wait for the writer's deadline, and restart the burst timer.
    batch, wait = q.take(12.0, [ROOT])
    assert batch is None and wait == pytest.approx(58.0) and q.first == 12.0
    q.changed("/photos/big.png", 20.0, writing=False)  # closed
    assert q.writing == set()
    batch, _ = q.take(21.0, [ROOT])
    assert batch is not None and batch.paths == ["/photos/big.png"]


def test_an_event_that_says_nothing_about_writing_keeps_the_writer() -> None:
    q = queue()
    q.changed("/photos/big.png", 10.0, writing=True)
    q.changed("/photos/big.png", 11.0)  # an attribute change, say
    assert q.writing == {"/photos/big.png"}


def test_a_writer_that_never_closes_is_indexed_after_the_write_wait() -> None:
    q = queue()
    q.changed("/photos/big.png", 10.0, writing=True)
    assert q.take(69.9, [ROOT])[0] is None
    batch, _ = q.take(70.0, [ROOT])
    assert batch is not None and batch.paths == ["/photos/big.png"]
    assert q.writing == set()


def test_a_write_wait_shorter_than_the_quiet_time_still_waits_for_quiet() -> None:
    q = ChangeQueue(QueueTiming(quiet_s=2.0, max_delay_s=1.0, write_wait_s=0.5))
    q.changed("/a", 10.0, writing=True)
    q.changed("/b", 10.0)
    assert q.take(11.0, [])[0] is None  # overdue, but neither path is quiet yet
    batch, _ = q.take(12.0, [])
    assert batch is not None and batch.paths == ["/a", "/b"]


def test_a_deleted_file_is_no_longer_being_written() -> None:
    q = queue()
    q.changed("/photos/big.png", 10.0, writing=True)
    q.changed("/photos/big.png", 10.5, writing=False)
    batch, _ = q.take(11.5, [ROOT])
    assert batch is not None and batch.paths == ["/photos/big.png"]


# -- bursts ------------------------------------------------------------------------------


def test_a_long_burst_is_indexed_at_least_every_max_delay() -> None:
    q = queue()
    t = 0.0
    handed_out: list[float] = []
    while t < 35.0:  # an event every 0.5 s, each on a new path
        q.changed(f"/photos/{t:05.1f}.jpg", t)
        batch, _ = q.take(t, [ROOT])
        if batch is not None:
            handed_out.append(t)
        t += 0.5
    # Every max_delay_s after the oldest change still waiting (the newest is never quiet).
    assert handed_out == [10.0, 19.5, 29.0]


def test_the_wait_during_a_burst_is_the_sooner_of_quiet_and_overdue() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 0.0)
    q.changed("/photos/b.jpg", 9.5)
    assert q.take(9.6, [ROOT]) == (None, pytest.approx(0.4))  # overdue at 10.0


def test_an_overdue_queue_with_nothing_quiet_restarts_its_timer() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 0.0, writing=True)
    q.changed("/photos/b.jpg", 9.9)
    batch, wait = q.take(10.0, [ROOT])
    assert batch is None and wait == pytest.approx(0.9)  # b's quiet time
    assert q.first == 10.0


# -- moves -------------------------------------------------------------------------------


def test_moves_are_kept_in_order_and_both_ends_rescanned() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 10.0, writing=True)
    q.moved("/photos/a.jpg", "/photos/b.jpg", 10.0)
    q.moved("/photos/b.jpg", "/photos/c.jpg", 10.1)
    assert q.writing == set()  # a move ends the write (the source is gone)
    assert q.marks == 5
    batch, _ = q.take(11.1, [ROOT])
    assert batch == Batch(
        ["/photos/a.jpg", "/photos/b.jpg", "/photos/c.jpg"],
        [("/photos/a.jpg", "/photos/b.jpg"), ("/photos/b.jpg", "/photos/c.jpg")],
    )
    assert q.moves == []


def test_a_moved_folder_covers_the_moves_of_its_contents() -> None:
    q = queue()
    q.moved("/photos/2023", "/photos/archive", 10.0)
    q.moved("/photos/2023/a.jpg", "/photos/archive/a.jpg", 10.0)  # implied
    q.moved("/photos/2023/sub/b.jpg", "/photos/archive/sub/b.jpg", 10.0)  # implied
    q.moved("/photos/2023/c.jpg", "/photos/elsewhere/c.jpg", 10.0)  # not implied
    q.moved("/photos/2023x/d.jpg", "/photos/archivex/d.jpg", 10.0)  # another folder
    assert q.moves == [
        ("/photos/2023", "/photos/archive"),
        ("/photos/2023/c.jpg", "/photos/elsewhere/c.jpg"),
        ("/photos/2023x/d.jpg", "/photos/archivex/d.jpg"),
    ]


def test_only_recent_folder_moves_imply_others() -> None:
    q = queue()
    q.moved("/photos/old", "/photos/new", 10.0)
    for i in range(IMPLIED_MOVE_WINDOW):
        q.moved(f"/x/{i}", f"/y/{i}", 10.0)
    q.moved("/photos/old/a.jpg", "/photos/new/a.jpg", 10.0)
    assert q.moves[-1] == ("/photos/old/a.jpg", "/photos/new/a.jpg")


def test_moves_are_handed_out_even_when_no_path_is_ready() -> None:
    q = queue()
    q.changed("/photos/big.png", 10.0, writing=True)
    q.moves.append(("/photos/x.jpg", "/photos/y.jpg"))  # seen earlier, paths already taken
    batch, _ = q.take(11.0, [ROOT])
    assert batch == Batch([], [("/photos/x.jpg", "/photos/y.jpg")])
    assert list(q.pending) == ["/photos/big.png"] and q.first == 10.0


# -- full scans --------------------------------------------------------------------------


def test_a_full_scan_takes_everything_at_once() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 10.0, writing=True)
    q.moved("/photos/b.jpg", "/photos/c.jpg", 10.0)
    q.rescan_all()
    assert q
    batch, wait = q.take(10.0, [ROOT])  # without waiting for quiet
    assert batch == Batch([], [("/photos/b.jpg", "/photos/c.jpg")], full=True) and wait == 0.0
    assert not q and not q.writing and q.first is None


def test_a_full_scan_alone_makes_the_queue_non_empty() -> None:
    q = queue()
    q.rescan_all()
    assert q and q.marks == 0


# -- coalescing --------------------------------------------------------------------------


def test_many_changes_in_one_folder_become_the_folder() -> None:
    q = queue()
    for i in range(4):  # more than folder_paths (3)
        q.changed(f"/photos/dcim/{i}.jpg", 10.0)
    q.changed("/photos/notes.txt", 10.0)
    batch, _ = q.take(11.0, [ROOT])
    assert batch is not None and batch.paths == ["/photos/dcim", "/photos/notes.txt"]


def test_a_few_changes_in_a_folder_stay_paths() -> None:
    q = queue()
    paths = [f"/photos/dcim/{i}.jpg" for i in range(3)]
    assert q.coalesce(paths, [ROOT]) == paths


def test_a_folder_outside_the_roots_is_never_scanned_whole() -> None:
    q = queue()
    paths = [f"/elsewhere/{i}.jpg" for i in range(5)]
    assert q.coalesce(paths, [ROOT]) == paths
    assert q.coalesce(paths, []) == paths


def test_coalescing_keeps_only_the_outermost_paths() -> None:
    q = queue()
    paths = ["/photos/dcim", "/photos/dcim/a.jpg", "/photos/dcim/sub/b.jpg", "/photos/z.jpg"]
    assert q.coalesce(paths, [ROOT]) == ["/photos/dcim", "/photos/z.jpg"]


def test_a_root_itself_can_be_the_coalesced_folder() -> None:
    q = queue()
    paths = [f"/photos/{i}.jpg" for i in range(4)]
    assert q.coalesce(paths, [ROOT]) == ["/photos"]


# -- a failed batch ----------------------------------------------------------------------


def test_a_failed_batch_is_put_back_before_what_came_since() -> None:
    q = queue()
    q.moved("/photos/later.jpg", "/photos/later2.jpg", 20.0)
    q.requeue(Batch(["/photos/a.jpg"], [("/photos/x.jpg", "/photos/y.jpg")]), 25.0)
    assert q.moves == [
        ("/photos/x.jpg", "/photos/y.jpg"),
        ("/photos/later.jpg", "/photos/later2.jpg"),
    ]
    assert q.pending["/photos/a.jpg"] == 25.0
    assert q.pending["/photos/later.jpg"] == 20.0
    assert q.first == 20.0 and q.last == 25.0


def test_a_requeued_path_keeps_its_newer_event() -> None:
    q = queue()
    q.changed("/photos/a.jpg", 30.0)
    q.requeue(Batch(["/photos/a.jpg"], []), 25.0)
    assert q.pending["/photos/a.jpg"] == 30.0 and q.last == 30.0


def test_a_failed_full_scan_is_asked_for_again() -> None:
    q = queue()
    q.requeue(Batch([], [], full=True), 25.0)
    assert q.full and q.first == 25.0 and q.last == 25.0


def test_requeueing_nothing_leaves_the_queue_empty() -> None:
    q = queue()
    q.requeue(Batch([], []), 25.0)
    assert not q and q.first is None and q.last == 0.0
