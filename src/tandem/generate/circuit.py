"""Retry pacing and a circuit breaker for calls to a remote model server.

>>> breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30.0)
>>> breaker.failure(); breaker.failure()
>>> breaker.state, breaker.retry_in_s() > 0
('open', True)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable


def backoff_delay(attempt: int, base_s: float, max_s: float = 8.0) -> float:
    """Exponential backoff with jitter: about base_s * 2**attempt, never above max_s."""
    delay = min(max_s, base_s * 2**attempt)
    return delay * random.uniform(0.5, 1.0)


class CircuitBreaker:
    """After `failure_threshold` failures in a row, refuse calls for `cooldown_s` seconds.

    closed: calls go through. open: calls fail fast until the cool-down ends. half-open: one
    probe call goes through; its success closes the circuit, its failure opens it again.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1. Currently it is {failure_threshold}.")
        if cooldown_s < 0:
            raise ValueError(f"cooldown_s must not be negative. Currently it is {cooldown_s}.")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._probing or self._clock() - self._opened_at >= self.cooldown_s:
                return "half-open"
            return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in_s(self) -> float:
        """0 when a call may go through now, else the seconds left in the cool-down."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            if self._probing:
                return max(0.001, self.cooldown_s - (self._clock() - self._opened_at))
            return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def acquire(self) -> bool:
        """True if a call may go through now; in half-open state only one probe at a time may."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._probing or self._clock() - self._opened_at < self.cooldown_s:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._probing = False

    def release(self) -> None:
        """A call ended without saying anything about the server's health (e.g. abandoned)."""
        with self._lock:
            self._probing = False
