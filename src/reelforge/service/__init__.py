"""The render-job service's engine, in plain Python (no HTTP): keys, jobs, job events, the webhook outbox and
idempotency records in one SQLite database; each job's files in its own folder; renders run by an `Executor`.

    engine = Engine(ServiceSettings(data=Path("/srv/reelforge")))
    engine.start()
    key, secret = engine.keys.create("ci")
    job = engine.submit(key, engine.open_draft(), document)
    engine.get(key, job.id).status     # queued → rendering → completed

HTTP front ends (`reelforge_api`: the native /v1 router, the compatibility routers) only translate requests
into these calls and jobs into their wire shapes.
"""

from typing import Any

_LAZY = {"Engine": "reelforge.service.engine", "ServiceError": "reelforge.service.errors",
         "ServiceSettings": "reelforge.service.settings"}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:  # the command line imports this package's settings without the engine
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'reelforge.service' has no attribute {name!r}")
