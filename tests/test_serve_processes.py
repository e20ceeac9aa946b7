"""`hotline serve` with WEB_CONCURRENCY: several complete servers on one port (PostgreSQL),
one on SQLite; SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from tests.channels.conftest import KEY

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    return [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))}
    cmd = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**base, "HOTLINE_SECRET_KEY": KEY, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def healthy(port: int, proc: subprocess.Popen[bytes], answers: int = 1) -> None:
    deadline = time.monotonic() + 60
    ok = 0
    while time.monotonic() < deadline and ok < answers:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            ok += httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            time.sleep(0.1)
    assert ok >= answers, "the server did not become healthy"


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.postgres
def test_several_processes_serve_one_port_and_stop_together(
    pg_empty: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = pg_empty
    database_url = (
        make_url(url)
        .set(query={"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    port = free_port()
    proc = start({"DATABASE_URL": database_url, "WEB_CONCURRENCY": "2"}, port, tmp_path / "log")
    try:
        healthy(port, proc, answers=20)  # new connections each: both processes answer
        workers = children(proc.pid)
        assert len(workers) == 2
    finally:
        code = stop(proc)
    assert code == 0, (tmp_path / "log").read_text()
    assert not any(Path(f"/proc/{w}").exists() for w in workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_sqlite_serves_in_one_process_whatever_web_concurrency_says(tmp_path: Path) -> None:
    port = free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hotline.db", "WEB_CONCURRENCY": "3"}
    proc = start(env, port, tmp_path / "log")
    try:
        healthy(port, proc)
        assert children(proc.pid) == []
    finally:
        code = stop(proc)
    assert code in (0, -signal.SIGTERM)  # uvicorn raises the signal again once stopped
    assert "WEB_CONCURRENCY=3 ignored" in (tmp_path / "log").read_text()
