"""The editor and the files it touches: a read-only project is never overwritten (Save As is offered), a project
behind a symlink is saved through it, and the editor's preview folder goes on every way out."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.widgets import Input  # noqa: E402

from editor_tui.app import OLD_TEMP_PREFIX, EditorApp  # noqa: E402
from editor_tui.screens.save_as import SaveAsScreen  # noqa: E402
from reelforge.workspace import Workspace  # noqa: E402

SIZE = (120, 36)
PROJECT = {"version": "1", "name": "Files", "scenes": [
    {"id": "intro", "duration": 2, "visual": {"type": "color", "color": "#102030"}}]}


def project(folder: Path) -> Path:
    path = folder / "video.json"
    path.write_text(json.dumps(PROJECT, indent=2) + "\n", encoding="utf-8")
    return path


def app_for(path: Path, cache: Path) -> EditorApp:
    return EditorApp(path, autosave_seconds=0.2, disk_poll_seconds=0.2, workspace=Workspace(cache), warm_voice=False)


async def until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def test_a_read_only_project_is_kept_and_saved_as_another_file(tmp_path: Path):
    path = project(tmp_path)
    original = path.read_text()
    os.chmod(path, 0o444)

    async def run() -> None:
        app = app_for(path, tmp_path / "cache")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("a")  # a new scene: the project is changed
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, SaveAsScreen), "the save-as dialog")
            field = app.screen.query_one("#save-as-path", Input)
            assert field.value == str(tmp_path / "video-copy.json")
            field.value = str(tmp_path / "mine.json")
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, SaveAsScreen), "the dialog to close")
            assert app.state.path == tmp_path / "mine.json" and not app.state.dirty

    asyncio.run(run())
    assert path.read_text() == original and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert len(json.loads((tmp_path / "mine.json").read_text())["scenes"]) == 2


def test_a_project_behind_a_link_is_saved_through_it(tmp_path: Path):
    (tmp_path / "real").mkdir()
    real = project(tmp_path / "real")
    link = tmp_path / "video.json"
    link.symlink_to(real)

    async def run() -> None:
        app = app_for(link, tmp_path / "cache")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("a", "ctrl+s")
            await until(pilot, lambda: not app.state.dirty, "the save")

    asyncio.run(run())
    assert link.is_symlink() and len(json.loads(real.read_text())["scenes"]) == 2


def test_the_preview_folder_goes_when_the_editor_ends_and_old_ones_are_swept(tmp_path: Path):
    cache = tmp_path / "cache"
    stale = Workspace(cache).work / "editor-99999-killed"
    stale.mkdir(parents=True)
    (stale / "preview.png").write_bytes(b"left by a killed editor")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))  # unlocked and old: an editor that was killed
    old_style = Path(tempfile.mkdtemp(prefix=OLD_TEMP_PREFIX))  # where older editors kept previews
    os.utime(old_style, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    seen: dict[str, Path] = {}

    async def run() -> None:
        app = app_for(project(tmp_path), cache)
        async with app.run_test(size=SIZE) as pilot:
            seen["work"] = app.work_dir
            assert app.work_dir.is_dir() and app.work_dir.parent == cache / "work"
            await pilot.press("q")

    asyncio.run(run())
    assert not seen["work"].exists(), "the editor's own folder outlived it"
    assert not stale.exists() and not old_style.exists()
