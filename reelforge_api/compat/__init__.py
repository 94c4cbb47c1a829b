"""The hosted video services' documented contracts, each one router module under `/compat/<service>` over the one
job engine: avs, vidgen, tutorflow, tikvod, tokcaption (see docs/compat.md for what each does and the choices made
where its document is silent)."""

from __future__ import annotations

import importlib

COMPAT_APIS = ("avs", "vidgen", "tutorflow", "tikvod", "tokcaption")


def install_all(app) -> None:
    """Add every compatibility router to the app (each module's `install(app)`)."""
    for name in COMPAT_APIS:
        module = importlib.import_module(f"reelforge_api.compat.{name}")
        module.install(app)
