"""Driving the terminal editor in tests: the app factory, waiting for workers, reading what was saved."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from pathlib import Path

import pytest

from editor_tui.app import EditorApp
from editor_tui.screens.editor import EditorScreen
from editor_tui.widgets.scene_list import SceneList

REPO = Path(__file__).resolve().parents[1]
SIZE = (120, 36)
SMALL = (80, 24)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One REELFORGE_CACHE for the module, so each narration is spoken once."""
    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("REELFORGE_CACHE")
    os.environ["REELFORGE_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("REELFORGE_CACHE", None)
    else:
        os.environ["REELFORGE_CACHE"] = previous


def run_async(test):
    """Run an async test body with asyncio (the project has no pytest async plugin); fixtures work as usual."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def make_app(path: Path, **options) -> EditorApp:
    """The app factory: a real editor on `path`, with autosave and disk polls fast enough for tests."""
    options.setdefault("autosave_seconds", 0.2)
    options.setdefault("disk_poll_seconds", 0.2)
    return EditorApp(path, **options)


def saved(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def scene_ids(data: dict) -> list[str]:
    return [scene["id"] for scene in data["scenes"]]


def editor(app: EditorApp) -> EditorScreen:
    screen = next(screen for screen in app.screen_stack if isinstance(screen, EditorScreen))
    return screen


async def wait_for(pilot, condition, timeout: float = 60.0, what: str = "condition") -> None:
    """Let the app run until `condition()` holds (workers post back by message)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def select_scene(pilot, app: EditorApp, scene_id: str) -> None:
    table = app.screen.query_one(SceneList)
    table.focus()
    index = [scene.id for scene in app.state.document.scenes].index(scene_id)
    table.move_cursor(row=index)
    await pilot.pause()
    assert editor(app).selected_id == scene_id


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch) -> Path:
    """An empty REELFORGE_CACHE for one test: what other tests spoke does not show (snapshots stay the same)."""
    folder = tmp_path / "fresh-cache"
    monkeypatch.setenv("REELFORGE_CACHE", str(folder))
    return folder


async def settle(pilot) -> None:
    """Wait until the app's workers (lengths from the cache, speech) are done and their messages handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
