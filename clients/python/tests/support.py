"""Test helpers: a real Herald process, a webhook receiver and a scriptable proxy, all on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def herald_binary() -> str:
    """The Herald binary named by $HERALD_BIN; a missing one fails the tests (never skips them)."""
    path = os.environ.get("HERALD_BIN")
    if not path:
        raise RuntimeError("HERALD_BIN is not set: point it at a built `herald` binary to run these tests")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"HERALD_BIN={path!r} is not an executable file")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HeraldProcess:
    """`herald serve` on a free loopback port with a fresh data directory and admin token."""

    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        self.binary = herald_binary()  # raises before anything is created
        self.admin_token = "adm_" + secrets.token_urlsafe(24)
        self.extra_env = extra_env or {}
        self.data_dir = tempfile.mkdtemp(prefix="herald-py-")
        self.log_path = os.path.join(self.data_dir, "herald.log")
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> HeraldProcess:
        last_error = ""
        for _ in range(3):  # a port taken between free_port() and bind: try another
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "HERALD_ADMIN_TOKEN": self.admin_token,
                "HERALD_ALLOW_SUBNETS": "127.0.0.0/8",
                "HERALD_RETRY_SCHEDULE": "1s,1s,1s",
                **self.extra_env,
            }
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [
                        self.binary,
                        "serve",
                        "--listen",
                        f"127.0.0.1:{port}",
                        "--data-dir",
                        os.path.join(self.data_dir, "data"),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            last_error = self.log()
            self.stop(keep_data=True)
        raise RuntimeError(f"herald did not become healthy; its log:\n{last_error}")

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-8000:]
        except OSError:
            return ""

    def stop(self, keep_data: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server:
    """A threaded HTTP server on 127.0.0.1 with a free port, stopped by close()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        items = headers.items() if isinstance(headers, dict) else headers
        for name, value in items:
            if name.lower() not in (
                "content-length",
                "content-encoding",
                "transfer-encoding",
                "connection",
                "date",
                "server",
            ):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Receiver(_Server):
    """Captures every delivery POSTed to it and answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[Captured] = []
        self.cond = threading.Condition()

        class Handler(_Handler):
            def do_POST(self) -> None:
                owner: Receiver = self.server.owner  # type: ignore[attr-defined]
                body = self.read_body()
                with owner.cond:
                    owner.deliveries.append(Captured("POST", self.path, dict(self.headers.items()), body))
                    owner.cond.notify_all()
                self.answer(200, {"Content-Type": "text/plain"}, b"ok")

        super().__init__(Handler)

    def wait_for(self, predicate: Callable[[list[Captured]], bool], timeout: float = 20) -> list[Captured]:
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self.deliveries), timeout=timeout):
                raise AssertionError(f"timed out waiting for deliveries; got {len(self.deliveries)}")
            return list(self.deliveries)

    def for_event(self, event_id: str) -> list[Captured]:
        with self.cond:
            return [d for d in self.deliveries if d.headers.get("webhook-id") == event_id]


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    status: int


# A scripted answer: (status, headers, body), or None to forward to the upstream.
Script = Callable[[str, str, int], tuple[int, dict[str, str], bytes] | None]


class Proxy(_Server):
    """Forwards every request to ``upstream``, recording it; ``script(method, path, n)`` (``n``
    counts the requests so far with this method and path, from 1) may answer in its place."""

    def __init__(self, upstream: str, script: Script | None = None) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.script = script
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()

        class Handler(_Handler):
            def handle_any(self) -> None:
                owner: Proxy = self.server.owner  # type: ignore[attr-defined]
                body = self.read_body()
                headers = dict(self.headers.items())
                path = self.path.split("?", 1)[0]
                with owner.lock:
                    n = 1 + sum(1 for e in owner.exchanges if e.method == self.command and e.path == path)
                scripted = owner.script(self.command, path, n) if owner.script else None
                if scripted is not None:
                    status, answer_headers, answer_body = scripted
                    answer_list = list(answer_headers.items())
                else:
                    forward = {
                        k: v
                        for k, v in headers.items()
                        if k.lower() not in ("host", "content-length", "connection", "accept-encoding")
                    }
                    response = owner.upstream.request(self.command, self.path, headers=forward, content=body)
                    status, answer_list, answer_body = (
                        response.status_code,
                        list(response.headers.multi_items()),
                        response.content,
                    )
                with owner.lock:
                    owner.exchanges.append(Exchange(self.command, path, headers, status))
                self.answer(status, answer_list, answer_body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        super().__init__(Handler)

    def seen(self, method: str | None = None, path: str | None = None) -> list[Exchange]:
        with self.lock:
            return [
                e for e in self.exchanges if (method is None or e.method == method) and (path is None or e.path == path)
            ]

    def close(self) -> None:
        super().close()
        self.upstream.close()


@dataclass
class Account:
    id: str
    client_id: str
    client_secret: str
    extra: dict[str, str] = field(default_factory=dict)
