"""Shared test fixtures: the repository's paths, the published schema's validator, the CLI, sample documents."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
SCHEMA_FILE = REPO / "schema" / "template.v1.schema.json"
INVALID = Path(__file__).resolve().parent / "invalid"

TEN_MEGABYTES = 10 * 1024 * 1024

# The smallest documents of each form: scenes, timed blocks (AVS Template JSON v1), and the AVS request body.
SCENE_DOCUMENT = {
    "version": "1",
    "name": "Minimal scenes",
    "scenes": [
        {"id": "intro", "narration": {"text": "Hello there."}, "visual": {"type": "color", "color": "#102030"}},
        {"id": "outro", "duration": 2, "visual": {"type": "card", "card": {"card": "end", "title": "Bye"}}},
    ],
}
AVS_TEMPLATE = {
    "version": "1",
    "name": "AVS blocks",
    "blocks": [
        {"type": "video", "start": 0, "duration": 5, "source": {"url": "https://example.com/clip.mp4"}},
        {"type": "image", "start": 1, "duration": 2, "source": {"uploadName": "logo.png"}},
        {"type": "text", "start": 0.5, "duration": 3, "text": "Hello"},
        {"type": "audio", "start": 0, "duration": 5, "source": {"uploadName": "music.mp3"}},
    ],
}
AVS_REQUEST = {"template": AVS_TEMPLATE, "output": {"aspectRatio": "16:9", "quality": "studio"}}


def template_paths() -> list[Path]:
    return sorted(TEMPLATES.glob("*.json"))


def valid_documents() -> list[tuple[str, dict]]:
    """Every document the project promises is valid, with a name for test ids."""
    documents = [(path.name, json.loads(path.read_text(encoding="utf-8"))) for path in template_paths()]
    documents += [
        ("scene-document", SCENE_DOCUMENT),
        ("avs-template", AVS_TEMPLATE),
        ("avs-request", AVS_REQUEST),
        ("avs-request-without-output", {"template": AVS_TEMPLATE}),
    ]
    return [(name, copy.deepcopy(document)) for name, document in documents]


def invalid_cases() -> list[dict]:
    """The invalid corpus: tests/invalid/manifest.json."""
    return json.loads((INVALID / "manifest.json").read_text(encoding="utf-8"))["cases"]


def write_ten_megabytes(folder: Path) -> Path:
    """A syntactically fine document of 10 MB: the size limit must stop it before parsing."""
    path = folder / "ten-megabytes.json"
    head = '{"version": "1", "name": "big", "description": "'
    tail = '", "blocks": [{"type": "text", "start": 0, "duration": 1, "text": "t"}]}\n'
    path.write_text(head + "x" * (TEN_MEGABYTES - len(head) - len(tail)) + tail, encoding="utf-8")
    return path


def case_path(case: dict, folder: Path) -> Path:
    """The file of a corpus case; generated ones are written into `folder`."""
    if case.get("generated") == "ten-megabytes":
        return write_ten_megabytes(folder)
    return INVALID / case["file"]


def case_id(case: dict) -> str:
    return case.get("file") or case["generated"]


@pytest.fixture(scope="session")
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def schema_validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema)


@contextlib.contextmanager
def private_cache(tmp_path_factory: pytest.TempPathFactory, name: str, *unset: str):
    """A fresh `$REELFORGE_CACHE` (the CLI's subprocesses inherit it) while the block runs, with
    `$REELFORGE_DEBUG` and the variables named in `unset` removed; for a module's autouse fixture."""
    folder = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REELFORGE_CACHE", str(folder))
        for variable in ("REELFORGE_DEBUG", *unset):
            patch.delenv(variable, raising=False)
        yield folder


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script (or `python -m reelforge`) as a user would; `env` adds to the environment."""
    script = Path(sys.executable).parent / "reelforge"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "reelforge"]
    env = {**{key: value for key, value in os.environ.items() if key != "REELFORGE_DEBUG"}, **(env or {})}
    return subprocess.run(
        command + [str(arg) for arg in args],
        capture_output=True, text=True, encoding="utf-8", errors="replace", cwd=cwd, env=env, timeout=120,
    )


def needs(*modules: str) -> pytest.MarkDecorator:
    """Skip a test (with the reason) when one of these importable modules is not installed."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (pip install 'reelforge[all]')")


def slow(*modules: str):
    """Mark a test that synthesizes speech or renders media (`-m "not slow"` leaves it out), skipped without
    the modules it needs."""
    def apply(test):
        return needs(*modules)(pytest.mark.slow(test)) if modules else pytest.mark.slow(test)
    return apply
