"""The hosted video services' documented contracts, each one router module under `/compat/<service>` over the one
job engine: avs, vidgen, tutorflow, tikvod, tokcaption (see docs/compat.md for what each does and the choices made
where its document is silent)."""

from __future__ import annotations

import importlib

COMPAT_APIS = ("avs", "vidgen", "tutorflow", "tikvod", "tokcaption")


TAGS = {"avs": "compat: AVS", "vidgen": "compat: vidgen", "tutorflow": "compat: TutorFlow",
        "tikvod": "compat: TikVod", "tokcaption": "compat: TokCaption"}


def install_all(app) -> None:
    """Add every compatibility router to the app (each module's `install(app)`), each described in the OpenAPI
    document by its module's docstring and a pointer to the choices made where its document is silent."""
    tags = list(app.openapi_tags or [])
    for name in COMPAT_APIS:
        module = importlib.import_module(f"reelforge_api.compat.{name}")
        module.install(app)
        about = " ".join((module.__doc__ or "").split())
        tags.append({"name": TAGS[name], "description": f"{about} Where its document is silent, the choices made "
                     f"are listed in docs/compat.md (section {TAGS[name].split(': ')[1]})."})
    app.openapi_tags = tags
