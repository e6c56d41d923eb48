"""Backpressure for generation: a bounded queue in front of the generator.

A request either gets a slot, waits in a bounded line for one, or is turned away at once with
429 and a `Retry-After` estimated from recent service times, instead of hanging.
"""

from __future__ import annotations

import asyncio
import math
import time

from tandem.server.errors import ApiError


class AdmissionQueue:
    """`concurrency` requests run; at most `max_waiting` wait (for up to `wait_timeout_s`)."""

    def __init__(
        self,
        concurrency: int = 1,
        max_waiting: int = 8,
        wait_timeout_s: float = 60.0,
        what: str = "the generator",
    ) -> None:
        if concurrency < 1 or max_waiting < 0:
            raise ValueError(
                f"concurrency must be >= 1 and max_waiting >= 0 (got {concurrency}, {max_waiting})"
            )
        self.concurrency, self.max_waiting, self.wait_timeout_s = concurrency, max_waiting, wait_timeout_s
        self.what = what
        self._slots = asyncio.Semaphore(concurrency)
        self.running = 0
        self.waiting = 0
        self.rejected = 0
        self._mean_service_s = 2.0

    def retry_after_s(self) -> int:
        """Seconds until a slot is likely free: the line ahead times the mean service time."""
        ahead = self.waiting + self.running
        return max(1, math.ceil(ahead * self._mean_service_s / self.concurrency))

    async def acquire(self) -> float:
        """Take a slot (returns its start time) or raise 429 (line full) / 503 (waited too long)."""
        if self.running >= self.concurrency and self.waiting >= self.max_waiting:
            self.rejected += 1
            raise ApiError(
                429,
                f"{self.what} is busy ({self.running} running, {self.waiting} waiting); retry later",
                "queue_full",
                "rate_limit_error",
                headers={"Retry-After": str(self.retry_after_s())},
            )
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.wait_timeout_s)
        except TimeoutError:
            self.rejected += 1
            raise ApiError(
                503,
                f"waited {self.wait_timeout_s:.0f} s for {self.what} without getting a turn; retry later",
                "queue_timeout",
                "server_error",
                headers={"Retry-After": str(self.retry_after_s())},
            ) from None
        finally:
            self.waiting -= 1
        self.running += 1
        return time.perf_counter()

    def release(self, started: float) -> None:
        self.running -= 1
        self._slots.release()
        elapsed = time.perf_counter() - started
        self._mean_service_s = 0.8 * self._mean_service_s + 0.2 * elapsed
