"""How many threads llama.cpp decodes with, chosen per request from how busy the machine is now.

llama.cpp's threads wait for each other at every token. With 2 threads on a 2-vCPU machine and one
core taken by another process, decoding fell from 90 to 29 tokens/s while 1 thread kept 68
(`bench/decode_contention.py`; worse under the server's own load): a busy core costs a
multi-threaded decode far more than it gains on an idle one (1.2-1.5x). So each
request counts the tasks runnable right now (`/proc/loadavg`, an instantaneous figure on Linux)
and decodes with as many of the configured threads as there are cores nobody else is using, at
least one. Elsewhere (no `/proc`), the configured number is used.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

LOADAVG = Path("/proc/loadavg")
SAMPLES = 3  # the fewest runnable tasks of this many readings, SAMPLE_GAP_S apart: the previous
SAMPLE_GAP_S = 0.005  # decode's threads spin for a moment after it ends and would count as others


def runnable_tasks(source: Path = LOADAVG, samples: int = SAMPLES) -> int | None:
    """Tasks runnable now on the whole machine (this reading thread included), the fewest of
    `samples` readings, or None if unknown."""
    counts = []
    for n in range(samples):
        if n:
            time.sleep(SAMPLE_GAP_S)
        try:
            counts.append(int(source.read_text().split()[3].split("/")[0]))
        except (OSError, IndexError, ValueError):
            return None
    return min(counts) if counts else None


def decode_threads(configured: int, cpus: int | None = None, runnable: int | None = None) -> int:
    """Threads for the next decode: `configured`, fewer when other tasks hold cores, at least 1."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    if runnable is None:
        return max(1, configured)
    others = max(0, runnable - 1)  # the thread reading /proc/loadavg is this request's own
    return max(1, min(configured, cpus - others))
