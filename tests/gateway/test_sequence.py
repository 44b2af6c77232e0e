"""Sequence tracking: live-first delivery, backlog, redelivery, eviction, a wiped outbox."""

from gateway.sequence import MAX_RANGES, SequenceState

TS = 1_763_856_000_000


def observe_all(state: SequenceState, seqs: list[int]) -> list[str]:
    return [state.observe(seq, TS + seq) for seq in seqs]


def test_backlog_sent_after_live_messages_fills_the_gap() -> None:
    state = SequenceState()
    observe_all(state, [1, 2, 3, 7, 8])  # 4-6 wait in the agent's outbox
    assert state.missing_count == 3
    assert observe_all(state, [4, 5, 6]) == ["late", "late", "late"]
    assert (state.missing_count, state.late, state.duplicates) == (0, 3, 0)


def test_redelivered_message_is_a_duplicate_not_a_gap() -> None:
    state = SequenceState()
    observe_all(state, [1, 2, 3])
    assert state.observe(2, TS + 2) == "duplicate"
    assert (state.duplicates, state.missing_count) == (1, 0)


def test_filling_the_middle_of_a_gap_keeps_both_sides_missing() -> None:
    state = SequenceState()
    observe_all(state, [1, 10])
    state.observe(5, TS + 5)
    assert state.missing == [(2, 4), (6, 9)]
    assert state.observe(5, TS + 5) == "duplicate"


def test_evicted_messages_stay_missing() -> None:
    state = SequenceState()
    observe_all(state, [1, 2, 50, 51])
    assert state.missing_count == 47
    assert state.highest == 51


def test_a_wiped_outbox_counting_from_one_again_is_a_reset() -> None:
    state = SequenceState()
    observe_all(state, [100, 101])
    assert state.observe(1, TS + 10_000) == "reset"
    assert (state.resets, state.highest, state.duplicates) == (1, 1, 0)
    assert state.observe(2, TS + 10_001) == "new"


def test_missing_ranges_are_bounded_and_the_oldest_count_as_lost() -> None:
    state = SequenceState()
    observe_all(state, [2 * n for n in range(MAX_RANGES + 11)])  # every odd one missing
    assert len(state.missing) == MAX_RANGES
    assert state.lost == 10
    assert state.missing[0] == (21, 21)
    assert state.observe(1, TS + 1) != "late"


def test_numbers_below_the_first_one_seen_are_late_not_duplicates() -> None:
    """An agent sends a door event before its older routine readings: the gateway's
    first number may be 4 with 1-3 still on their way."""
    state = SequenceState()
    assert observe_all(state, [4, 5, 1, 2, 3]) == ["new", "new", "late", "late", "late"]
    assert (state.duplicates, state.missing_count) == (0, 0)
