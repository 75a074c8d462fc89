"""A private redis-server on a free port, for tests that stop, freeze and restart Redis (never the shared one)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

from tests.live import free_port


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts it empty (no persistence: a restart loses every key, as a Redis without AOF does)."""
        self._proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        """Kills it: connections drop, new ones are refused."""
        if self._proc is not None:
            self.thaw()
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and nothing answers."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)


@contextlib.contextmanager
def running_private_redis() -> Iterator[PrivateRedis]:
    """For a test module's fixture: `with running_private_redis() as redis: yield redis`."""
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
