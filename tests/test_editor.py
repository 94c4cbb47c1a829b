"""The terminal scene editor, driven for real: keys change the document as the core's edit operations say."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

pytest.importorskip("textual")

from PIL import Image  # noqa: E402
from textual.geometry import Size  # noqa: E402
from textual.widgets import Input, Label, OptionList, Select, TabbedContent  # noqa: E402

from editor_pilot import (  # noqa: E402,F401  (cache_dir is a fixture)
    REPO,
    SIZE,
    cache_dir,
    editor,
    fresh_cache,
    make_app,
    run_async,
    saved,
    scene_ids,
    select_scene,
    settle,
    wait_for,
)
from editor_tui.screens.confirm import ConfirmScreen  # noqa: E402
from editor_tui.screens.editor import EDITOR_COMMANDS, EditorScreen  # noqa: E402
from editor_tui.screens.new_project import NewProjectScreen  # noqa: E402
from editor_tui.screens.preview import PreviewScreen  # noqa: E402
from editor_tui.screens.quit import QuitScreen  # noqa: E402
from editor_tui.screens.recovery import RecoveryScreen  # noqa: E402
from editor_tui.screens.render import RenderScreen  # noqa: E402
from editor_tui.screens.settings import SettingsScreen  # noqa: E402
from editor_tui.screens.visual_picker import VisualPicker  # noqa: E402
from editor_tui.state import autosave_path  # noqa: E402
from editor_tui.widgets.preview import HalfBlockImage, graphics_protocol, halfblock_strips  # noqa: E402
from reelforge.cards.registry import card_names  # noqa: E402

BUILTIN_CARD_LABELS = ["title", "list item", "quiz", "stat", "quote", "end"]

PROJECT = {
    "version": "1",
    "name": "Editor test",
    "output": {"aspectRatio": "9:16", "quality": "draft"},
    "captions": {"style": "bold_pop"},
    "scenes": [
        {"id": "intro", "narration": {"text": "Hello there. The sea is wide. Boats sail home."},
         "visual": {"type": "color", "color": "#102030"}},
        {"id": "middle", "narration": {"text": "Waves roll in."}, "visual": {"type": "color", "color": "#203040"}},
        {"id": "outro", "duration": 2, "visual": {"type": "card", "card": {"card": "end", "title": "Bye"}}},
    ],
}


@pytest.fixture
def project_file(tmp_path: Path, cache_dir: Path) -> Path:
    path = tmp_path / "video.json"
    path.write_text(json.dumps(PROJECT, indent=2) + "\n", encoding="utf-8")
    return path


# --- the core never imports Textual ---------------------------------------------------------------------


def test_importing_reelforge_does_not_import_textual():
    code = ("import sys, reelforge, reelforge.editing.project, reelforge.editing.operations, reelforge.cli, editor_tui.state; "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, f"importing the core imported {result.stdout.strip()} {result.stderr}"


# --- every key does what the core says -----------------------------------------------------------------


# keys pressed on the scene list with 'middle' selected → the ids the core's edit gives
SCENE_KEYS = [
    (["a"], ["intro", "middle", "scene", "outro"]),
    (["d"], ["intro", "outro"]),
    (["shift+up"], ["middle", "intro", "outro"]),
    (["shift+down"], ["intro", "outro", "middle"]),
    (["ctrl+d"], ["intro", "middle", "middle-2", "outro"]),
]


@pytest.mark.parametrize("keys, expected", SCENE_KEYS, ids=[keys[0] for keys, _ in SCENE_KEYS])
@run_async
async def test_scene_keys_change_the_document_and_undo_redo(project_file: Path, keys, expected):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        await pilot.press(*keys, "ctrl+s")
        assert scene_ids(saved(project_file)) == expected
        await pilot.press("ctrl+z", "ctrl+s")
        assert scene_ids(saved(project_file)) == ["intro", "middle", "outro"]
        await pilot.press("ctrl+y", "ctrl+s")
        assert scene_ids(saved(project_file)) == expected
    assert (project_file.with_name("video.json.bak")).exists()


@run_async
async def test_split_at_the_sentence_nearest_the_cursor(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        narration = app.screen.query_one("#narration")
        text = narration.text
        narration.cursor_location = narration.document.get_location_from_index(text.index("wide") + 2)
        await select_scene(pilot, app, "intro")
        await pilot.press("s", "ctrl+s")
        data = saved(project_file)
        assert scene_ids(data) == ["intro", "intro-2", "middle", "outro"]
        assert data["scenes"][0]["narration"]["text"] == "Hello there. The sea is wide."
        assert data["scenes"][1]["narration"]["text"] == "Boats sail home."
        await pilot.press("ctrl+z", "ctrl+s")
        assert saved(project_file)["scenes"][0]["narration"]["text"] == PROJECT["scenes"][0]["narration"]["text"]


@run_async
async def test_typing_in_the_form_is_an_undoable_edit(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        narration = app.screen.query_one("#narration")
        narration.focus()
        narration.move_cursor(narration.document.end)
        await pilot.press(*" And go.")
        await pilot.press("escape", "ctrl+s")
        assert saved(project_file)["scenes"][1]["narration"]["text"] == "Waves roll in. And go."
        await pilot.press("ctrl+z", "ctrl+s")
        assert saved(project_file)["scenes"][1]["narration"]["text"] == "Waves roll in."
        assert app.screen.query_one("#narration").text == "Waves roll in."


@run_async
async def test_invalid_input_is_kept_and_reported_without_blocking(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        app.screen.query_one("#duration-mode", Select).value = "fixed"
        seconds = app.screen.query_one("#seconds", Input)
        seconds.value = "abc"
        await wait_for(pilot, lambda: "middle" in app.state.draft_errors, what="the form to take the input")
        assert any("not a number" in problem.message for problem in app.state.problems())
        await select_scene(pilot, app, "intro")
        await select_scene(pilot, app, "middle")
        assert app.screen.query_one("#seconds", Input).value == "abc", "what the user typed is kept"
        app.screen.query_one("#seconds", Input).value = "4.5"
        await wait_for(pilot, lambda: app.state.scene("middle").duration == 4.5, what="the form to commit")
        await pilot.press("ctrl+s")
        assert saved(project_file)["scenes"][1]["duration"] == 4.5
        assert not app.state.draft_errors


@pytest.mark.slow
@run_async
async def test_the_voice_is_loaded_in_the_background_once_the_editor_has_painted(project_file: Path, fresh_cache: Path):
    pytest.importorskip("piper")
    from reelforge.speech.tts import find_voice, piper_engine

    app = make_app(project_file, warm_voice=True)
    info = find_voice(app.state.document.voice.voice_id, app.workspace.voices)
    piper_engine._LOADED.clear()  # whatever earlier tests loaded: this editor must load it itself
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(key[0] == str(info.model_path) for key in piper_engine._LOADED),
                       what="the voice to be loaded", timeout=120)
        await wait_for(pilot, lambda: not editor(app).warm_thread.is_alive(), what="the warm-up to end", timeout=120)
        assert app.state.speech_state(app.state.scene("middle")) == "none", "warming speaks no scene"
        assert app.workspace.stats.models_loaded == 1, "the warm-up loaded the voice"
        await select_scene(pilot, app, "middle")
        await pilot.press("t")
        await wait_for(pilot, lambda: "middle" not in app.state.speaking, what="speech", timeout=120)
        assert app.state.speech_state(app.state.scene("middle")) == "fresh"
        assert app.workspace.stats.models_loaded == 1, "t used the voice the warm-up loaded"
        assert app.workspace.stats.synthesized == 1


@pytest.mark.slow
@run_async
async def test_tts_regenerates_speech_in_a_worker_with_the_exact_duration(project_file: Path):
    pytest.importorskip("piper")
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        assert app.state.speech_state(app.state.scene("middle")) == "none"
        app.state.speaking.add("middle")  # the row of a scene being spoken says so
        assert next(row for row in app.state.rows() if row.scene_id == "middle").speech == "speaking"
        app.state.speaking.clear()
        await pilot.press("t")
        await wait_for(pilot, lambda: "middle" not in app.state.speaking, what="speech")
        scene = app.state.scene("middle")
        assert app.state.speech_state(scene) == "fresh"
        spoken = app.state.spoken_seconds(scene)
        assert 0.5 < spoken < 3.0
        row = next(row for row in app.state.rows() if row.scene_id == "middle")
        frames = math.ceil((spoken + Fraction(str(scene.padding))) * 30)  # the render's rule: whole frames, rounded up
        assert row.exact and row.seconds == pytest.approx(frames / 30)
        assert ("tts", "middle") not in {tuple(marker) for marker in app.state.project.stale}
        # an edit of the narration makes it stale again
        app.screen.query_one("#narration").load_text("Waves roll in, slowly.")
        await wait_for(pilot, lambda: app.state.speech_state(app.state.scene("middle")) == "stale",
                       what="the edit to make the speech stale")


@run_async
async def test_visual_picker_sets_a_color_and_imports_a_file(project_file: Path, tmp_path: Path):
    outside = tmp_path / "outside" / "photo.png"
    outside.parent.mkdir()
    Image.new("RGB", (64, 32), (200, 40, 40)).save(outside)
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        await pilot.press("v")
        assert isinstance(app.screen, VisualPicker)
        app.screen.query_one(TabbedContent).active = "color"
        app.screen.query_one("#color-value", Input).value = "#abcdef"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert saved(project_file)["scenes"][1]["visual"] == {"type": "color", "color": "#abcdef"}

        await pilot.press("v")
        importer = app.screen.query_one("#import-path", Input)
        importer.focus()
        importer.value = str(outside)
        await pilot.press("enter")
        assert (project_file.parent / "assets" / "photo.png").read_bytes() == outside.read_bytes()
        assert app.screen.query_one("#file-list", OptionList).highlighted is not None
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        assert saved(project_file)["scenes"][1]["visual"] == {"type": "image", "source": {"uploadName": "photo.png"}}
        await pilot.press("ctrl+z", "ctrl+s")
        assert saved(project_file)["scenes"][1]["visual"]["type"] == "color"


def card_kind_labels(picker: VisualPicker) -> list[str]:
    """What the card kind select offers, as its drop-down list shows it."""
    return [str(option.prompt) for option in picker.query_one("#card-kind", Select).query_one(OptionList).options]


@run_async
async def test_visual_picker_lists_every_registered_card(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        picker = app.screen
        picker.query_one(TabbedContent).active = "card"
        await pilot.pause()
        await pilot.click("#card-kind")
        await pilot.pause()
        labels = card_kind_labels(picker)
        assert labels[:6] == BUILTIN_CARD_LABELS
        assert labels == [name.replace("_", " ") for name in card_names()], "installed plug-in cards follow"


@run_async
async def test_visual_picker_makes_cards_and_gradients(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "outro")
        await pilot.press("v")
        picker = app.screen
        picker.query_one(TabbedContent).active = "card"
        assert picker.query_one("#card-kind", Select).value == "end", "the scene's card is selected"
        assert picker.query_one("#card-end-title", Input).value == "Bye", "and its fields filled"
        picker.query_one("#card-kind", Select).value = "quiz"
        picker.query_one("#card-quiz-question", Input).value = "Which is deepest?"
        picker.query_one("#card-quiz-choices", Input).value = "Pacific | Atlantic"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        await pilot.press("ctrl+s")
        card = saved(project_file)["scenes"][2]["visual"]["card"]
        assert card == {"card": "quiz", "question": "Which is deepest?", "choices": ["Pacific", "Atlantic"], "answer": 0}
        await pilot.press("v")
        app.screen.query_one(TabbedContent).active = "gradient"
        app.screen.query_one("#gradient-colors", Input).value = "#000000, #ffffff"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert saved(project_file)["scenes"][2]["visual"] == {"type": "gradient", "colors": ["#000000", "#ffffff"],
                                                              "angle": 180.0}


@pytest.fixture
def badge_plugin(tmp_path: Path) -> Path:
    """A real installed plug-in distribution (dist-info with entry_points.txt) adding a `badge` card whose model
    has a str, an int, a bool and a Literal field. Returns the folder to put on the path."""
    folder = tmp_path / "site"
    info = folder / "reelforge_editor_test_cards-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reelforge-editor-test-cards\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[reelforge.cards]\nbadge = reelforge_editor_test_cards:SPEC\n")
    (folder / "reelforge_editor_test_cards.py").write_text(textwrap.dedent('''\
        from typing import Literal
        from pydantic import BaseModel, ConfigDict, Field
        from pydantic.alias_generators import to_camel
        from reelforge.cards import CardSpec

        class BadgeCard(BaseModel):
            """A badge that pops in."""

            model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)
            card: Literal["badge"]
            badge_text: str = Field(description="What the badge says.")
            count: int = Field(description="The number on the badge.")
            is_shiny: bool = Field(default=False, description="Whether it sparkles.")
            tone: Literal["calm", "loud"] = Field(default="calm", description="How it looks.")

        SPEC = CardSpec("badge", BadgeCard, "reelforge_editor_test_cards:BadgeScene", version="1")
        '''))
    return folder


# Drives the picker with the `badge` plug-in card and prints what it saw, as JSON. It runs in its own process:
# the document model builds its card union from the registry when `reelforge.model` is first imported, and this
# test process imported it (through the editor) long before the fixture made the plug-in. Registering the plug-in
# here and refreshing the registry would list the card but not let a document hold it; a fresh interpreter with
# the plug-in on its path is what a user who installed it gets.
PLUGIN_DRIVER = """\
import asyncio, json, sys
from pathlib import Path
from textual.widgets import Checkbox, Input, Label, OptionList, Select, TabbedContent
from editor_tui.app import EditorApp

async def drive(path):
    seen = {}
    app = EditorApp(path, autosave_seconds=0.2, disk_poll_seconds=0.2, warm_voice=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("v")
        picker = app.screen
        picker.query_one(TabbedContent).active = "card"
        await pilot.pause()
        kinds = picker.query_one("#card-kind", Select)
        seen["kinds"] = [str(option.prompt) for option in kinds.query_one(OptionList).options]
        kinds.value = "badge"
        await pilot.pause()
        form = picker.query_one("#card-form-badge")
        seen["inputs"] = {w.id: type(w).__name__ for w in form.query("Input, Checkbox, Select")}
        seen["labels"] = [str(w.content) for w in form.query(Label)] + [str(w.label) for w in form.query(Checkbox)]
        seen["tone"] = form.query_one("#card-badge-tone", Select).value
        error = picker.query_one("#pick-error", Label)

        await pilot.click("#use")
        await pilot.pause()
        seen["empty"] = [str(error.content), app.screen is picker]

        await pilot.click("#card-badge-badge_text")
        await pilot.press(*"Hi there")
        await pilot.click("#card-badge-count")
        await pilot.press(*"lots")
        await pilot.click("#card-badge-is_shiny")
        form.query_one("#card-badge-tone", Select).value = "loud"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        seen["bad_int"] = [str(error.content), app.screen is picker, app.focused.id]

        await pilot.press("backspace", "backspace", "backspace", "backspace", "7", "enter")
        await pilot.pause()
        seen["closed"] = app.screen is not picker
        await pilot.press("ctrl+s")
        seen["form_visual"] = str(app.screen.query_one("#visual-name", Label).content)
    print(json.dumps(seen))

asyncio.run(drive(Path(sys.argv[1])))
"""


def test_visual_picker_builds_a_form_for_a_plugin_card(project_file: Path, badge_plugin: Path, tmp_path: Path):
    driver = tmp_path / "drive_picker.py"
    driver.write_text(PLUGIN_DRIVER, encoding="utf-8")
    path = os.pathsep.join([str(badge_plugin), str(REPO), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, str(driver), str(project_file)],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "PYTHONPATH": path})
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["kinds"][:6] == BUILTIN_CARD_LABELS and "badge" in seen["kinds"]
    assert seen["inputs"] == {"card-badge-badge_text": "Input", "card-badge-count": "Input",
                              "card-badge-is_shiny": "Checkbox", "card-badge-tone": "Select"}
    assert seen["labels"] == ["badgeText  What the badge says.", "count  The number on the badge.",
                              "tone  How it looks.", "isShiny  Whether it sparkles."]
    assert seen["tone"] == "calm", "a Literal field starts at its default"
    assert seen["empty"] == ["badgeText: Field required", True], "the model's error, inline; the dialog stays"
    assert seen["bad_int"] == ["count: 'lots' is not a whole number", True, "card-badge-count"]
    assert seen["closed"]
    assert saved(project_file)["scenes"][0]["visual"] == {
        "type": "card", "card": {"card": "badge", "badgeText": "Hi there", "count": 7, "isShiny": True, "tone": "loud"}}
    assert seen["form_visual"] == "card:badge"


@run_async
async def test_the_form_names_a_card_overlay_with_the_visual(project_file: Path):
    document = saved(project_file)
    document["scenes"][1]["cardOverlay"] = {"card": {"card": "stat", "value": 42}}
    project_file.write_text(json.dumps(document), encoding="utf-8")
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        assert str(app.screen.query_one("#visual-name", Label).content) == "#203040"
        assert str(app.screen.query_one("#card-overlay-name", Label).content) == "+ card:stat"
        assert app.screen.query_one("#card-overlay-row").display
        await select_scene(pilot, app, "intro")
        assert not app.screen.query_one("#card-overlay-row").display


@run_async
async def test_music_and_captions(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert isinstance(app.screen, SettingsScreen) and app.focused.id == "music-source"
        app.screen.query_one("#music-source", Select).value = "upbeat"
        app.screen.query_one("#music-volume", Input).value = "0.4"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert saved(project_file)["music"] == {"mood": "upbeat", "volume": 0.4, "ducking": True}
        await pilot.press("c")
        assert isinstance(app.screen, SettingsScreen) and app.focused.id == "captions-enabled"
        app.screen.query_one("#captions-style", Select).value = "karaoke_neon"
        app.screen.query_one("#captions-position", Select).value = "top"
        await pilot.pause()
        await pilot.click("#use")
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert saved(project_file)["captions"] == {"style": "karaoke_neon", "enabled": True, "position": "top"}
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+s")
        assert "music" not in saved(project_file)
        assert saved(project_file)["captions"] == {"style": "bold_pop"}


# --- preview ----------------------------------------------------------------------------------------------


def test_halfblock_cells_take_the_top_pixel_as_foreground_and_the_bottom_as_background():
    image = Image.new("RGB", (2, 2))
    image.putpixel((0, 0), (255, 0, 0))
    image.putpixel((0, 1), (0, 0, 255))
    image.putpixel((1, 0), (0, 255, 0))
    image.putpixel((1, 1), (255, 255, 255))
    strips = halfblock_strips(image.resize((2, 2)), Size(2, 1))
    segments = [segment for segment in strips[0] if segment.text]
    cells = [(segment.style.color.triplet, segment.style.bgcolor.triplet) for segment in segments
             for _ in segment.text]
    assert "".join(segment.text for segment in segments) == "▀▀"
    assert cells[0] == ((255, 0, 0), (0, 0, 255))
    assert cells[1] == ((0, 255, 0), (255, 255, 255))


def test_graphics_protocol_from_the_environment():
    assert graphics_protocol({"TERM": "xterm-kitty"}) == "kitty"
    assert graphics_protocol({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}) == "kitty"
    assert graphics_protocol({"TERM": "foot"}) == "sixel"
    assert graphics_protocol({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux"}) == "halfblock"
    assert graphics_protocol({"TERM": "xterm-256color"}) == "halfblock"


def test_kitty_and_sixel_sequences():
    from editor_tui.widgets.preview import kitty_sequence, png_bytes, sixel_sequence

    image = Image.new("RGB", (8, 12), (10, 200, 30))
    kitty = kitty_sequence(png_bytes(image), columns=4, rows=3)
    assert kitty.startswith("\x1b_Ga=T,f=100,c=4,r=3,m=0;") and kitty.endswith("\x1b\\")
    sixel = sixel_sequence(image)
    assert sixel.startswith('\x1bPq"1;1;8;12') and sixel.endswith("\x1b\\")
    assert sixel.count("-") == 2, "12 rows are two bands of six"


@pytest.mark.slow  # composes a frame of the scene with ffmpeg and libass
@run_async
async def test_preview_shows_the_scene_as_half_blocks(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        await pilot.press("p")
        assert isinstance(app.screen, PreviewScreen)
        image = app.screen.query_one(HalfBlockImage)
        await wait_for(pilot, lambda: image.image is not None, what="the preview frame")
        assert image.image.getpixel((image.image.width // 2, image.image.height // 2)) == (0x20, 0x30, 0x40)
        line = image.render_line(image.size.height // 2)
        assert "▀" in line.text
        await pilot.press("escape")
        assert isinstance(app.screen, EditorScreen)


# --- render -----------------------------------------------------------------------------------------------

TINY = {
    "version": "1",
    "name": "Tiny",
    "output": {"aspectRatio": "1:1", "resolution": "720p", "quality": "web"},
    "scenes": [
        {"id": "one", "duration": 1, "visual": {"type": "color", "color": "#224466"}},
        {"id": "two", "duration": 1, "visual": {"type": "card", "card": {"card": "end", "title": "Bye"}}},
    ],
}


@pytest.fixture
def tiny_project(tmp_path: Path, cache_dir: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


@pytest.mark.slow
@run_async
async def test_render_produces_the_video_beside_the_project(tiny_project: Path):
    av = pytest.importorskip("av")
    app = make_app(tiny_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, RenderScreen)
        assert app.screen.query_one("#render-output", Input).value == str(tiny_project.with_suffix(".mp4"))
        app.screen.query_one("#render-quality", Select).value = "draft"
        await pilot.pause()
        await pilot.click("#render-start")
        await pilot.pause()
        # The editor's screen is back before the render screen's result reaches it (Textual calls the callback
        # after the switch): wait for the result itself, or a busy machine sees last_render still None.
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen) and editor(app).last_render is not None,
                       timeout=180, what="the render")
        assert editor(app).last_render.path == tiny_project.with_suffix(".mp4").resolve()
    out = tiny_project.with_suffix(".mp4")
    assert out.is_file()
    with av.open(str(out)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        assert kinds == ["audio", "video"]
        assert container.duration / 1e6 == pytest.approx(2.0, abs=0.1)
        video = container.streams.video[0]
        assert (video.width, video.height) == (360, 360), "draft quality renders at reduced size"


@pytest.mark.slow
@run_async
async def test_escape_cancels_the_render_and_leaves_no_file(tiny_project: Path):
    app = make_app(tiny_project)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r")
        render_screen = app.screen
        await pilot.press("enter")
        assert render_screen.started
        await pilot.press("escape")
        assert render_screen.token.cancelled
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen), timeout=60, what="the cancel")
        assert editor(app).last_render.cancelled
    assert not tiny_project.with_suffix(".mp4").exists()
    assert not list(tiny_project.parent.glob("*.mp4")), "no partial output either"


# --- quitting, autosave, recovery, the file on disk, new projects -------------------------------------------


@run_async
async def test_quit_with_unsaved_changes_asks_first(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, EditorScreen) and app.is_running
        await pilot.press("q", "d")
        await pilot.pause()
    assert app.return_value == 0
    assert scene_ids(saved(project_file)) == ["intro", "middle", "outro"], "quitting without saving saves nothing"


@run_async
async def test_save_and_quit(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "q")
        assert isinstance(app.screen, QuitScreen)
        assert str(app.screen.query_one("#save").label) == "Save and quit (s)"
        assert app.focused.id == "save", "saving is what enter does"
        await pilot.press("enter")
        await pilot.pause()
    assert not app.is_running and app.return_value == 0
    assert scene_ids(saved(project_file)) == ["intro", "scene", "middle", "outro"]
    assert not autosave_path(project_file).exists()


@run_async
async def test_save_and_quit_of_a_read_only_file_asks_where_then_quits(project_file: Path, tmp_path: Path):
    from editor_tui.screens.save_as import SaveAsScreen

    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        project_file.chmod(0o444)
        try:
            await pilot.press("q", "s")
            await pilot.pause()
            assert isinstance(app.screen, SaveAsScreen), "a read-only project is refused, even for root"
            await pilot.press("enter")
            await pilot.pause()
            assert not app.is_running
        finally:
            project_file.chmod(0o644)
    assert scene_ids(saved(tmp_path / "video-copy.json")) == ["intro", "scene", "middle", "outro"]


@run_async
async def test_quit_without_changes_does_not_ask(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


@run_async
async def test_autosave_is_offered_for_recovery_on_the_next_open(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: autosave_path(project_file).exists(), timeout=10, what="the autosave")
    assert scene_ids(saved(project_file)) == ["intro", "middle", "outro"]
    assert scene_ids(saved(autosave_path(project_file))) == ["intro", "middle", "middle-2", "outro"]

    again = make_app(project_file)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(again.screen, RecoveryScreen)
        await pilot.press("y")
        assert isinstance(again.screen, EditorScreen)
        assert [scene.id for scene in again.state.document.scenes] == ["intro", "middle", "middle-2", "outro"]
        assert again.state.dirty
        await pilot.press("ctrl+s")
    assert scene_ids(saved(project_file)) == ["intro", "middle", "middle-2", "outro"]
    assert not autosave_path(project_file).exists(), "saving removes the autosave"


@run_async
async def test_an_older_autosave_is_not_offered(project_file: Path):
    autosave = autosave_path(project_file)
    autosave.write_text(project_file.read_text(encoding="utf-8"), encoding="utf-8")
    old = project_file.stat().st_mtime - 60
    os.utime(autosave, (old, old))
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen)


@run_async
async def test_a_change_on_disk_is_not_silently_overwritten(project_file: Path):
    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        theirs = dict(PROJECT, name="Changed elsewhere")
        project_file.write_text(json.dumps(theirs), encoding="utf-8")
        await wait_for(pilot, lambda: editor(app).disk_change_noticed, timeout=5, what="the disk check")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert saved(project_file)["name"] == "Changed elsewhere"
        await pilot.press("ctrl+s")
        await pilot.press("y")
        assert saved(project_file)["name"] == "Editor test"
        assert len(saved(project_file)["scenes"]) == 4
        assert json.loads(project_file.with_name("video.json.bak").read_text())["name"] == "Changed elsewhere"


@run_async
async def test_a_missing_file_starts_a_new_project(tmp_path: Path, cache_dir: Path):
    path = tmp_path / "fresh.json"
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, NewProjectScreen)
        app.screen.query_one("#aspect", Select).value = "16:9"
        await pilot.pause()
        await pilot.click("#create")
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen)
        assert not path.exists(), "nothing is written before saving"
        await pilot.press("ctrl+s")
    data = saved(path)
    assert data["output"]["aspectRatio"] == "16:9"
    assert data["voice"]["voiceId"]
    assert len(data["scenes"]) == 1


# --- command palette and keymap ---------------------------------------------------------------------------


@run_async
async def test_every_action_is_in_the_command_palette(project_file: Path):
    from editor_tui.commands import EditorCommands

    app = make_app(project_file)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "middle")
        provider = EditorCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]  # noqa: SLF001
        assert len(names) == len(EDITOR_COMMANDS)
        hits = [hit async for hit in provider.search("duplicate")]
        assert hits and hits[0].help == "Duplicate (^d)"
        hits = [hit async for hit in provider.search("speak the narration")]
        assert hits[0].help == "Speech (t · ^t)", "the list's key, then the form's"
        duplicate = [hit async for hit in provider.search("duplicate")][0]
        duplicate.command()
        await pilot.pause()
        assert [scene.id for scene in app.state.document.scenes] == ["intro", "middle", "middle-2", "outro"]


def test_keymap_file(tmp_path: Path, monkeypatch):
    from editor_tui.keymap import load_keymap
    from reelforge.errors import ReelforgeError

    keys = tmp_path / "keys.json"
    monkeypatch.setenv("REELFORGE_EDITOR_KEYS", str(keys))
    assert load_keymap() == {}
    keys.write_text('{"editor.add_scene": "n"}', encoding="utf-8")
    assert load_keymap() == {"editor.add_scene": "n"}
    keys.write_text('["n"]', encoding="utf-8")
    with pytest.raises(ReelforgeError, match="binding id"):
        load_keymap()


@run_async
async def test_bindings_are_remappable_by_id(project_file: Path):
    app = make_app(project_file, keymap={"editor.add_scene": "n"})
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "intro")
        await pilot.press("n")
        assert len(app.state.document.scenes) == 4
        from editor_tui.commands import EditorCommands

        hits = [hit async for hit in EditorCommands(app.screen).search("add a scene")]
        assert hits[0].help == "Add (n · ^n)", "the palette shows the remapped key"


# --- snapshots ----------------------------------------------------------------------------------------------


@pytest.fixture
def demo_project(tmp_path: Path, cache_dir: Path) -> Path:
    shutil.copy(REPO / "templates" / "demo.json", tmp_path / "demo.json")
    return tmp_path / "demo.json"


def test_snapshot_main_screen(snap_compare, demo_project: Path, fresh_cache: Path):
    async def down(pilot) -> None:
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(make_app(demo_project), terminal_size=SIZE, run_before=down)


def test_snapshot_main_screen_small(snap_compare, demo_project: Path, fresh_cache: Path):
    assert snap_compare(make_app(demo_project), terminal_size=(80, 24), run_before=settle)


def test_snapshot_visual_picker(snap_compare, demo_project: Path, fresh_cache: Path):
    async def open_cards(pilot) -> None:
        await pilot.press("v")
        pilot.app.screen.query_one(TabbedContent).active = "card"
        await pilot.pause()

    assert snap_compare(make_app(demo_project), terminal_size=SIZE, run_before=open_cards)


def test_snapshot_render_progress(snap_compare, demo_project: Path, fresh_cache: Path):
    from editor_tui.messages import RenderProgress

    async def show_progress(pilot) -> None:
        await pilot.press("ctrl+r")
        screen = pilot.app.screen
        screen.show_progress_view()
        screen.on_render_progress(RenderProgress(0.42, "video", 75.0))
        await pilot.pause()

    assert snap_compare(make_app(demo_project), terminal_size=SIZE, run_before=show_progress)
