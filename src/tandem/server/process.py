"""Start `tandem serve` as a separate process on 127.0.0.1 with its own data folder.

Used by the live-server tests and `bench/load.py`; handy for a user's own integration tests too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> str:
    """Run `tandem ARGS...` with `env`; return stdout, or raise RuntimeError with stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"tandem {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    env: dict[str, str]
    log: Path

    def create_key(self, scope: str) -> str:
        return cli(self.env, "keys", "create", "--scope", scope).strip().splitlines()[-1]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(folder: Path, *args: str, settings: dict[str, str] | None = None) -> LiveServer:
    """`tandem serve ARGS` on a free port; waits until /readyz says ready (models loaded)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TANDEM_DATA_DIR": str(folder / "data"),
        "COLUMNS": "200",
        **(settings or {}),
    }
    port = free_port()
    log = folder / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, env, log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tandem serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"tandem serve was not ready within 300 s:\n{log.read_text()}")
