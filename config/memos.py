"""Per-process memos: what one process keeps in its own memory to skip a cache or database round trip.

Every memo is made here, so their lifetime is one rule: an entry lives its `seconds` at most, a
full memo drops its least recently used entry, a forked child starts with none of its parent's
entries, and `memos_clear()` forgets them all (the tests call it between tests). Only values that
may be a little stale belong here: each memo says how stale, in its `seconds`.
"""

import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TLRUCache

_memos: list["Memo"] = []
_MISSING = object()


class Memo:
    """A bounded, expiring, thread-safe dict. `seconds` may be a function, read at each insert."""

    def __init__(self, name: str, *, seconds: float | Callable[[], float], max_entries: int):
        self.name = name
        self.seconds = seconds
        self.max_entries = max_entries
        self._reset()
        _memos.append(self)

    def _reset(self) -> None:
        # time.monotonic is looked up at each call so tests can move the clock.
        self._entries = TLRUCache(maxsize=self.max_entries, ttu=self._expiry, timer=lambda: time.monotonic())
        self._lock = threading.Lock()

    def _expiry(self, key, value, now: float) -> float:
        return now + (self.seconds() if callable(self.seconds) else self.seconds)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            return self._entries.get(key, default)

    def set(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            self._entries[key] = value
        return value

    def get_or_set(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The remembered value, or `compute()` remembered (computed outside the lock)."""
        value = self.get(key, _MISSING)
        return self.set(key, compute()) if value is _MISSING else value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def memos_clear() -> None:
    for memo in _memos:
        memo.clear()


def _memos_reset_in_child() -> None:
    # A lock held by another thread of the parent at fork time would stay held in the child forever.
    for memo in _memos:
        memo._reset()


os.register_at_fork(after_in_child=_memos_reset_in_child)
