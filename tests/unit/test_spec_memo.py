"""spec_memo: a memo of pure functions of frozen specs that computes unhashable arguments every
time and raises a computation's errors again on every call."""

from __future__ import annotations

import pytest

from accelsim.spec.memo import KeyedMemo, clear_spec_memos, spec_memo


def counted():
    """A memoized function that counts its computations (it fails on the string ``"bad"``)."""
    calls = []

    @spec_memo(8)
    def double(value):
        calls.append(value)
        if value == "bad":
            raise TypeError("no doubling for 'bad'")
        return value * 2 if not isinstance(value, dict) else {k: v * 2 for k, v in value.items()}

    return double, calls


def test_hashable_arguments_are_computed_once_until_cleared():
    double, calls = counted()
    assert [double(3), double(3), double((1, 2)), double((1, 2))] == [6, 6, (1, 2, 1, 2), (1, 2, 1, 2)]
    assert calls == [3, (1, 2)]
    clear_spec_memos()
    assert double(3) == 6 and calls == [3, (1, 2), 3]


def test_unhashable_arguments_are_computed_every_time():
    double, calls = counted()
    assert double({"a": 1}) == {"a": 2} and double({"a": 1}) == {"a": 2}
    assert calls == [{"a": 1}, {"a": 1}]


def test_a_computations_own_type_error_is_raised_every_time():
    double, calls = counted()
    for _ in range(2):
        with pytest.raises(TypeError, match="no doubling"):
            double("bad")
    assert calls == ["bad", "bad"]


def test_keyed_memo_computes_once_per_key_keeps_no_error_and_empties_when_full_or_cleared():
    memo, calls = KeyedMemo(2), []

    def compute(value):
        def run():
            calls.append(value)
            if value < 0:
                raise ValueError("negative")
            return 2 * value
        return run

    assert [memo.get("a", compute(1)), memo.get("a", compute(99)), memo.get("b", compute(2))] == [2, 2, 4]
    assert calls == [1, 2]
    for _ in range(2):
        with pytest.raises(ValueError, match="negative"):
            memo.get("c", compute(-1))
    assert calls == [1, 2, -1, -1]
    assert memo.get("d", compute(3)) == 6  # full (2 entries): emptied, then kept
    assert memo.get("a", compute(5)) == 10 and calls[-2:] == [3, 5]
    clear_spec_memos()
    assert memo.get("a", compute(7)) == 14 and calls[-1] == 7
