import os
import time

from config.memos import Memo, memos_clear


def test_it_forgets_an_entry_after_its_seconds(monkeypatch):
    memo = Memo("test", seconds=60, max_entries=10)
    memo.set("key", "value")
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 59)
    assert memo.get("key") == "value"
    monkeypatch.setattr(time, "monotonic", lambda: now + 61)
    assert memo.get("key") is None


def test_it_reads_seconds_from_a_function_at_each_insert(monkeypatch):
    seconds = [60]
    memo = Memo("test", seconds=lambda: seconds[0], max_entries=10)
    seconds[0] = 5
    memo.set("key", "value")
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 6)
    assert memo.get("key", "gone") == "gone"


def test_it_drops_the_least_recently_used_entry_when_full():
    memo = Memo("test", seconds=60, max_entries=2)
    memo.set("a", 1)
    memo.set("b", 2)
    memo.get("a")
    memo.set("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)


def test_it_computes_once_and_remembers_none_too():
    memo, calls = Memo("test", seconds=60, max_entries=10), []
    for _ in range(3):
        assert memo.get_or_set("key", lambda: calls.append(1)) is None
    assert calls == [1]


def test_it_forgets_every_memo_at_once():
    first, second = Memo("first", seconds=60, max_entries=10), Memo("second", seconds=60, max_entries=10)
    first.set("a", 1)
    second.set("b", 2)
    memos_clear()
    assert len(first) == len(second) == 0


def test_it_starts_a_forked_child_with_fresh_locks():
    memo = Memo("test", seconds=60, max_entries=10)
    memo._lock.acquire()  # as if another thread held it when the process forked
    pid = os.fork()
    if pid == 0:
        os._exit(0 if memo.set("key", 1) == 1 else 1)
    memo._lock.release()
    assert os.waitpid(pid, 0)[1] == 0
