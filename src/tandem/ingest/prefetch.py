"""Run a producer a few items ahead of its consumer, in a thread: parsing overlaps encoding.

Parsing, chunking and the corpus-guard scan of the next files run while the encoder embeds the
current batch. Both spend their time in native code that releases the GIL (tokenizers, ONNX
Runtime), so on two cores the two stages run side by side.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()
PUT_WAIT_S = 0.1  # how often a blocked producer checks whether the consumer has gone


def prefetched(source: Iterator[T], depth: int = 8) -> Iterator[T]:
    """The items of `source`, produced in a background thread up to `depth` ahead. An exception in
    the producer is raised in the consumer; a consumer that stops early stops the producer."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=PUT_WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)
            return
        put(_END)

    thread = threading.Thread(target=produce, name="tandem-ingest-prepare", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
