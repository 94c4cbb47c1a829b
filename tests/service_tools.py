"""Helpers of the service's tests: documents, multipart bodies, a real `reelforge serve` process, a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

COLOR_DOCUMENT = {"version": "1", "name": "Colors", "output": {"quality": "draft"},
                  "scenes": [{"id": "a", "duration": 1.5, "visual": {"type": "color", "color": "#204060"}}]}


def color_document(**changes: Any) -> dict:
    return {**json.loads(json.dumps(COLOR_DOCUMENT)), **changes}


def upload_document(*names: str, narration: str | None = None) -> dict:
    """A draft document showing each uploaded image in turn (the first scene narrated when asked)."""
    scenes = []
    for index, name in enumerate(names):
        scene = {"id": f"s{index}", "duration": 1.5,
                 "visual": {"type": "image", "source": {"uploadName": name}, "motion": "none"}}
        if narration and index == 0:
            scene.pop("duration")
            scene["narration"] = {"text": narration}
        scenes.append(scene)
    return {"version": "1", "name": "Uploads", "output": {"quality": "draft"}, "scenes": scenes}


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]], file_field: str = "files") -> tuple[bytes, str]:
    """A multipart/form-data body: text fields, then one part per (filename, bytes)."""
    boundary = "----reelforge" + secrets.token_hex(8)
    chunks = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() +
                      value.encode("utf-8") + b"\r\n")
    for filename, data in files:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                      f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


# -- a real server -------------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    data: Path
    log: Path
    secret: str = ""

    def call(self, method: str, path: str, body: bytes | dict | None = None, *, headers: dict[str, str] | None = None,
             key: str | None = None, timeout: float = 60) -> Answer:
        sent = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if key or self.secret:
            sent.setdefault("Authorization", f"Bearer {key or self.secret}")
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=body, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def wait_for(self, render_id: str, until: tuple[str, ...] = ("completed", "failed", "cancelled"), *,
                 timeout: float = 240, condition=None) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.call("GET", f"/v1/renders/{render_id}")
            assert answer.status == 200, answer.body
            job = answer.json()
            if job["status"] in until and (condition is None or condition(job)):
                return job
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"render {render_id} did not reach {until}: {job}")

    def children(self) -> list[int]:
        """The server's descendants (its render processes and their ffmpeg runs)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        found, frontier = [], {self.process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier}
            found += sorted(frontier)
        return found


def cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reelforge", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def make_key(data: Path, *extra: str) -> str:
    result = cli("keys", "create", "--name", "test", "--data", data, *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@contextmanager
def serving(data: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`reelforge serve --port 0` in its own process group; stopped (SIGTERM, then SIGKILL) at the end."""
    data.mkdir(parents=True, exist_ok=True)
    port_file = data / f"port-{secrets.token_hex(4)}"
    log = data / f"server-{secrets.token_hex(4)}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "reelforge", "serve", "--port", "0", "--data", str(data),
                                    "--port-file", str(port_file), *extra], stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True, env={**os.environ, **(env or {})})
    server = None
    try:
        deadline = time.monotonic() + 90
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.05)
        server = Server(process, f"http://127.0.0.1:{port_file.read_text().strip()}", data, log)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything the server left in its own group
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


# -- a webhook receiver ----------------------------------------------------------------------------------------

@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    failures: int = 0  # each event's first `failures` deliveries are answered 500

    def wait(self, predicate, timeout: float = 120) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [d for d in list(self.deliveries) if predicate(d)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no such delivery; got {[d.headers.get('x-reelforge-event') for d in self.deliveries]}")


@contextmanager
def receiving(failures: int = 0) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that records each delivery; it answers 500 to the first `failures`
    deliveries of each event (by its id), then 200."""
    receiver = Receiver("", failures=failures)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                try:
                    event_id = json.loads(body)["id"]
                except (ValueError, KeyError, TypeError):
                    event_id = None
                earlier = sum(1 for d in receiver.deliveries if d.body and json.loads(d.body).get("id") == event_id)
                status = 500 if earlier < receiver.failures else 200
                receiver.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
