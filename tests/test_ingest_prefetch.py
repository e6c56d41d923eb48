"""The prefetching producer that overlaps parsing with encoding (plain Python, no model)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tandem.ingest.prefetch import prefetched


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def source() -> Iterator[int]:
        for n in range(50):
            threads.add(threading.current_thread().name)
            yield n

    assert list(prefetched(source(), depth=3)) == list(range(50))
    assert threads == {"tandem-ingest-prepare"}


def test_the_producers_error_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("file 2 is broken")

    seen = []
    with pytest.raises(ValueError, match="file 2 is broken"):
        for item in prefetched(source()):
            seen.append(item)
    assert seen == [1]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced = []

    def source() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    items = prefetched(source(), depth=2)
    assert next(items) == 0
    items.close()  # the consumer leaves (an error while encoding)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count < 10
