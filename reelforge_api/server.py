"""`reelforge serve`: the app on uvicorn, on a socket bound before start so the port is known (port 0 too)."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

from reelforge.errors import ReelforgeError
from reelforge.service import Engine, ServiceError, ServiceSettings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: ServiceSettings, *, port_file: Path | None = None, log_level: str = "info") -> int:
    """Run the service until SIGINT or SIGTERM; renders in progress are queued again for the next start."""
    import uvicorn

    from reelforge_api.app import create_app

    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(settings.host, settings.port)
    port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    settings = settings.model_copy(update={"port": port})
    engine = Engine(settings)
    try:
        engine.start()  # before uvicorn: a data folder in use is one line, not a failed start-up's traceback
    except ServiceError as error:
        sock.close()
        raise ReelforgeError(f"{settings.data}: {error}") from None
    app = create_app(settings, engine=engine, port_file=port_file, start_engine=False)
    print(f"reelforge serve: listening on http://{shown_host}:{port} (data {settings.data}, "
          f"{settings.workers} render workers)", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=10,
                            server_header=False, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
