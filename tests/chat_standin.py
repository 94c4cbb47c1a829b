"""A stand-in for an OpenAI-compatible chat-completions server (llama.cpp, Ollama, vLLM speak this wire format) on
127.0.0.1: it records each request and answers what the test queued (a message content, a raw body, a delay)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class Reply:
    content: str | None = None  # the assistant message's content
    raw: bytes | None = None  # or a whole body as is
    status: int = 200
    delay: float = 0.0


@dataclass
class ChatServer:
    url: str = ""  # the base URL, ending in /v1
    requests: list[dict] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=lambda: Reply(content=json.dumps(SCRIPT)))


SCRIPT = {"title": "Owls at night", "hook": "Owls hear a mouse under the snow.",
          "segments": [{"narration": "Their wings have soft edges, so they fly without a sound.",
                        "visual": "an owl gliding over a moonlit field"},
                       {"narration": "They turn their heads almost all the way round.",
                        "visual": "close-up of an owl turning its head"}]}


def completion(content: str, model: str) -> bytes:
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}).encode()


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                        "body": json.loads(body or b"null")})
                reply = server.replies.pop(0) if server.replies else server.default
            time.sleep(reply.delay)
            if self.path != "/v1/chat/completions":
                reply = Reply(raw=b'{"error": {"message": "not found"}}', status=404)
            data = reply.raw if reply.raw is not None else completion(reply.content or "", json.loads(body)["model"])
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
