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

from reelforge.service.engine import Engine
from reelforge.service.errors import ServiceError
from reelforge.service.settings import ServiceSettings

__all__ = ["Engine", "ServiceError", "ServiceSettings"]
