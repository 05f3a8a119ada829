"""The near-duplicate rule, candidate pairs and grouping: pure logic."""

from __future__ import annotations

import random

from finder.core.search.near import (
    WINDOW,
    Evidence,
    NearRule,
    candidate_pairs,
    candidates,
    groups_of_pairs,
    neighbours_in_time,
    within_bits,
)


def test_copies_are_near_by_the_fingerprint_alone() -> None:
    rule = NearRule()
    assert rule.near(Evidence(bits=0, colour=0.0, cosine=None))
    assert rule.near(Evidence(bits=rule.copy_bits, colour=rule.copy_colour, cosine=None))
    assert not rule.near(Evidence(bits=rule.copy_bits + 1, colour=0.0, cosine=None))
    assert not rule.near(Evidence(bits=0, colour=rule.copy_colour + 1, cosine=None))


def test_a_known_cosine_guards_copies_and_admits_edits() -> None:
    rule = NearRule()
    assert not rule.near(Evidence(bits=0, colour=0.0, cosine=rule.copy_cosine - 0.01))
    edit = Evidence(bits=rule.edit_bits, colour=rule.edit_colour, cosine=rule.edit_cosine)
    assert rule.near(edit)
    # without a meaningful cosine an edit is not trusted
    assert not rule.near(Evidence(bits=rule.edit_bits, colour=rule.edit_colour, cosine=None))
    assert not rule.near(
        Evidence(bits=rule.edit_bits + 1, colour=0.0, cosine=0.999)
    )  # structure too different
    assert not rule.near(Evidence(bits=2, colour=rule.edit_colour + 1, cosine=0.999))


def test_candidate_pairs_find_every_pair_up_to_3_bits() -> None:
    rng = random.Random(5)
    hashes: list[int | None] = [rng.getrandbits(64) for _ in range(300)]
    originals = len(hashes)
    for n in range(originals):
        copy = hashes[n]
        assert copy is not None
        for bit in rng.sample(range(64), rng.randrange(4)):
            copy ^= 1 << bit
        hashes.append(copy)
    hashes.append(None)  # not fingerprinted: never paired
    pairs = candidate_pairs(hashes)
    assert all((n, n + originals) in pairs for n in range(originals))
    assert not any(len(hashes) - 1 in pair for pair in pairs)
    assert len(pairs) < 3 * originals  # random others rarely share a quarter


def test_a_crowd_is_paired_by_neighbours_not_all_pairs() -> None:
    hashes: list[int | None] = [0] * (WINDOW * 100)
    pairs = candidate_pairs(hashes)
    assert len(pairs) < len(hashes) * 10
    assert len(groups_of_pairs(len(hashes), pairs)) == 1


def test_groups_are_connected_components() -> None:
    groups = groups_of_pairs(7, [(0, 1), (1, 2), (4, 5), (5, 4)])
    assert sorted(groups) == [[0, 1, 2], [4, 5]]
    assert groups_of_pairs(3, []) == []


def test_within_bits_compares_all_pairs_at_once() -> None:
    hashes: list[int | None] = [0, 0b111, 2**64 - 1, None]
    pairs = [(0, 1), (0, 2), (1, 2), (0, 3)]
    assert within_bits(hashes, pairs, 3) == [(0, 1)]
    assert within_bits(hashes, pairs, 64) == [(0, 1), (0, 2), (1, 2)]
    assert within_bits(hashes, [], 3) == []


def test_neighbours_in_time_pair_the_next_ones_taken() -> None:
    times = ["2021-05-01T10:00:03", None, "2021-05-01T10:00:01", "2019-01-01T00:00:00"]
    assert neighbours_in_time(times, window=1) == {(2, 3), (0, 2)}
    assert (0, 3) in neighbours_in_time(times, window=2)
    assert not any(1 in pair for pair in neighbours_in_time(times))


def test_candidates_join_quarters_and_time() -> None:
    hashes: list[int | None] = [0xFFFF, 0xFFFF << 48, 0x1234_0000_0000_0001, None]
    times = ["2020-01-01", "2020-01-02", None, "2020-01-03"]
    pairs = {tuple(p) for p in candidates(hashes, times).tolist()}
    assert (0, 1) in pairs  # same middle quarters (zeros)
    assert (1, 3) in pairs and (0, 3) in pairs  # taken one after the other
    assert all(i < j for i, j in pairs)
    assert candidates([], []).shape == (0, 2)
