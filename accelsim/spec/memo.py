"""Memos of pure functions of frozen specs (archs, layers, rates), and one way to empty them all."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_MEMOS: list = []


def spec_memo(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: memoise ``compute(*specs)`` (at most ``maxsize`` entries; the caller must not
    mutate what it returns). Arguments with unhashable parts (a plain dict of overrides put into
    an arch by ``dataclasses.replace``) are computed every time; errors are raised again on every
    call. :func:`clear_spec_memos` empties every such memo."""

    def decorate(compute: Callable[..., T]) -> Callable[..., T]:
        cached = functools.lru_cache(maxsize=maxsize)(compute)
        _MEMOS.append(cached)

        @functools.wraps(compute)
        def wrapper(*args) -> T:
            try:
                return cached(*args)  # hashes the arguments once
            except TypeError:
                try:
                    hash(args)
                except TypeError:  # unhashable arguments: computed, not kept
                    return compute(*args)
                raise  # the computation's own TypeError

        return wrapper

    return decorate


class KeyedMemo:
    """A memo of values under keys the caller builds from exactly what a computation reads of its
    specs (a vector unit and two port widths rather than a whole arch, so designs that differ
    elsewhere share the value). At most ``limit`` entries (emptied when full); a computation that
    raises is not kept. :func:`clear_spec_memos` empties it too."""

    def __init__(self, limit: int):
        self._values: dict = {}
        self._limit = limit
        _MEMOS.append(self)

    def get(self, key, compute: Callable[[], T]) -> T:
        """The value under ``key``, computed by ``compute()`` the first time."""
        try:
            return self._values[key]
        except KeyError:
            pass
        value = compute()
        if len(self._values) >= self._limit:
            self._values.clear()
        self._values[key] = value
        return value

    def cache_clear(self) -> None:
        self._values.clear()


def clear_spec_memos() -> None:
    """Forget every :func:`spec_memo` value (benchmarks of cold runs)."""
    for cached in _MEMOS:
        cached.cache_clear()
