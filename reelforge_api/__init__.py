"""reelforge's HTTP service: a thin FastAPI layer over the job engine (`reelforge.service`).

`create_app(settings)` builds the app: the native `/v1` router, one error envelope, auth, rate limits and request
ids as dependencies and middleware, offline API docs. `serve(settings)` runs it on uvicorn. Each wire contract is
one router module; all of them share the engine.
"""

from reelforge_api.app import create_app
from reelforge_api.server import serve

__all__ = ["create_app", "serve"]
