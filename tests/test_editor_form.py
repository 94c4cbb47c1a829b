"""The editor's scene form and settings screen, field by field: each change is an edit of the saved JSON (and only of
that field), undone and redone; keys that follow the focus; lengths that add up and come from the cache; the 80x24
layout; recorded narration heard again with `t`."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("textual")

from PIL import Image  # noqa: E402
from textual.widgets import Input, Select, TextArea  # noqa: E402

from conftest import run_cli, slow  # noqa: E402
from editor_pilot import (  # noqa: E402,F401  (cache_dir is a fixture)
    SIZE,
    SMALL,
    cache_dir,
    fresh_cache,
    make_app,
    run_async,
    saved,
    scene_ids,
    select_scene,
    settle,
    wait_for,
)
from editor_tui.screens.preview import PreviewScreen  # noqa: E402
from editor_tui.screens.settings import SettingsScreen  # noqa: E402
from editor_tui.state import SceneLength  # noqa: E402
from editor_tui.widgets.header import HeaderFacts, header_line  # noqa: E402
from editor_tui.widgets.scene_list import SceneList, short_id  # noqa: E402
from mediatools import make_test_clip, write_wav_tone  # noqa: E402

MISSING = object()

PROJECT = {
    "version": "1",
    "name": "Form test",
    "output": {"aspectRatio": "9:16", "quality": "draft"},
    "scenes": [
        {"id": "plain", "narration": {"text": "The sea is wide. Boats sail home."},
         "visual": {"type": "color", "color": "#102030"}, "transition": {"type": "crossfade", "duration": 0.5}},
        {"id": "clip", "narration": {"text": "A clip of the waves."},
         "visual": {"type": "video", "source": {"uploadName": "clip.mp4"}}},
        {"id": "still", "narration": {"text": "A still of the shore."},
         "visual": {"type": "image", "source": {"uploadName": "still.png"}}, "overlays": [{"text": "Deep sea"}]},
        {"id": "ramp", "duration": 3, "visual": {"type": "gradient", "colors": ["#000000", "#ffffff"]}},
        {"id": "card", "narration": {"text": "Here is a title."},
         "visual": {"type": "card", "card": {"card": "title", "title": "Five facts"}}},
        {"id": "voice", "narration": {"audio": {"uploadName": "take.wav"}, "transcript": "Hello there."},
         "visual": {"type": "color", "color": "#203040"}},
    ],
}


def _project_scenes():
    from reelforge.document.loader import validate_data

    return list(validate_data(PROJECT).scenes)


@pytest.fixture(scope="module")
def assets_source(tmp_path_factory) -> Path:
    """The media the project uses, made once: a 2 s clip, a still, two recordings (tones)."""
    folder = tmp_path_factory.mktemp("form-assets")
    make_test_clip(folder / "clip.mp4", seconds=2.0)
    Image.new("RGB", (320, 480), (30, 90, 160)).save(folder / "still.png")
    write_wav_tone(folder / "take.wav", 1.5)
    write_wav_tone(folder / "other.wav", 2.25, frequency=330)
    return folder


@pytest.fixture
def form_project(tmp_path: Path, cache_dir: Path, assets_source: Path) -> Path:
    shutil.copytree(assets_source, tmp_path / "assets")
    path = tmp_path / "form.json"
    path.write_text(json.dumps(PROJECT, indent=2) + "\n", encoding="utf-8")
    return path


def scene_of(data: dict, scene_id: str) -> dict:
    return next(scene for scene in data["scenes"] if scene["id"] == scene_id)


def at(value: Any, path: list) -> Any:
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value


def with_value(scene: dict, path: list, value: Any) -> dict:
    """`scene` with the field at `path` set to `value` (removed for MISSING)."""
    result = copy.deepcopy(scene)
    holder = result
    for key in path[:-1]:
        holder = holder[key]
    if value is MISSING:
        holder.pop(path[-1], None)
        if path[:-1] and not holder:  # an emptied object goes too
            parent = at(result, path[:-2]) if len(path) > 2 else result
            parent.pop(path[-2], None)
    else:
        holder[path[-1]] = value
    return result


async def set_fields(pilot, steps: list[tuple[str, Any]]) -> None:
    """Set widgets as a user would leave them: ("#id", value), or ("click", "#button")."""
    screen = pilot.app.screen
    for target, value in steps:
        if target == "click":
            screen.query_one(value).press()
        else:
            widget = screen.query_one(target)
            if isinstance(widget, TextArea):
                widget.load_text(value)
            else:
                widget.value = value
        await pilot.pause()


async def field_round_trip(pilot, path_file: Path, scene_id: str, path: list, before: Any, after: Any,
                           change) -> None:
    """Change a field, save: only that field changed; undo: as before; redo: changed again."""
    original = scene_of(saved(path_file), scene_id)
    assert at(original, path) == before if before is not MISSING else at(original, path) is MISSING, path
    await change()
    await pilot.press("escape")  # leaving the form commits what it holds
    await pilot.press("ctrl+s")
    assert not pilot.app.state.draft_errors, pilot.app.state.draft_errors
    assert scene_of(saved(path_file), scene_id) == with_value(original, path, after), path
    await pilot.press("ctrl+z", "ctrl+s")
    assert scene_of(saved(path_file), scene_id) == original, path
    await pilot.press("ctrl+y", "ctrl+s")
    assert scene_of(saved(path_file), scene_id) == with_value(original, path, after), path


@pytest.mark.parametrize("template", sorted(path.name for path in (Path(__file__).parents[1] / "templates").glob("*.json")))
def test_the_form_shows_every_scene_of_the_templates_without_changing_it(template: str):
    """Model → form → model changes nothing: what the form shows of a scene reads back as no change at all."""
    from editor_tui.drafts import draft_of, scene_changes
    from reelforge.document.loader import load_document

    document = load_document(Path(__file__).parents[1] / "templates" / template).document
    for scene in document.scenes + _project_scenes():
        assert scene_changes(draft_of(scene), scene) == {}, scene.id


# scene, widget steps, path in the scene, value before, value after
FIELDS = [
    ("plain", [("#title", "Opening")], ["title"], MISSING, "Opening"),
    ("plain", [("#narration-kind", "recording"), ("#recording", "take.wav")], ["narration"],
     {"text": "The sea is wide. Boats sail home."},
     {"audio": {"uploadName": "take.wav"}, "transcript": "The sea is wide. Boats sail home."}),
    ("voice", [("#narration-kind", "text")], ["narration"],
     {"audio": {"uploadName": "take.wav"}, "transcript": "Hello there."}, {"text": "Hello there."}),
    ("voice", [("#narration", "Hello out there.")], ["narration", "transcript"], "Hello there.", "Hello out there."),
    ("voice", [("#recording", "other.wav")], ["narration", "audio"], {"uploadName": "take.wav"},
     {"uploadName": "other.wav"}),
    ("plain", [("#duration-mode", "fixed"), ("#seconds", "4.5")], ["duration"], MISSING, 4.5),
    ("plain", [("#padding", "1.2")], ["padding"], MISSING, 1.2),
    ("clip", [("#video-fit", "contain")], ["visual", "fit"], MISSING, "contain"),
    ("clip", [("#trim-start", "0.5")], ["visual", "trimStart"], MISSING, 0.5),
    ("clip", [("#trim-end", "1.5")], ["visual", "trimEnd"], MISSING, 1.5),
    ("clip", [("#video-loop", False)], ["visual", "loop"], MISSING, False),
    ("clip", [("#video-volume", "50")], ["visual", "volume"], MISSING, 0.5),
    ("still", [("#image-fit", "contain")], ["visual", "fit"], MISSING, "contain"),
    ("still", [("#motion", "pan_left")], ["visual", "motion"], MISSING, "pan_left"),
    ("still", [("#motion-amount", "30")], ["visual", "motionAmount"], MISSING, 0.3),
    ("plain", [("#color", "#abcdef")], ["visual", "color"], "#102030", "#abcdef"),
    ("ramp", [("#gradient-colors", "#000000 #ffffff #ff0000")], ["visual", "colors"], ["#000000", "#ffffff"],
     ["#000000", "#ffffff", "#ff0000"]),
    ("ramp", [("#gradient-angle", "90")], ["visual", "angle"], MISSING, 90.0),
    ("card", [("#card-title-title", "Six facts")], ["visual", "card", "title"], "Five facts", "Six facts"),
    ("card", [("#card-title-subtitle", "Number four is wild")], ["visual", "card", "subtitle"], MISSING,
     "Number four is wild"),
    ("card", [("#card-background", "#112233")], ["visual", "background"], MISSING, "#112233"),
    ("still", [("#overlay-1-text", "Deeper sea")], ["overlays", 0, "text"], "Deep sea", "Deeper sea"),
    ("still", [("#overlay-1-anchor", "bottom")], ["overlays", 0, "placement"], MISSING,
     {"anchor": "bottom", "y": -0.12}),  # the nudge follows the anchor's row
    ("still", [("#overlay-1-size", "10")], ["overlays", 0, "style"], MISSING, {"fontSize": 0.1}),
    ("still", [("#overlay-1-color", "#ffd23f")], ["overlays", 0, "style"], MISSING, {"color": "#ffd23f"}),
    ("still", [("#overlay-1-look", "box")], ["overlays", 0, "style"], MISSING, {"boxColor": "#00000066"}),
    ("plain", [("click", "#add-overlay")], ["overlays"], MISSING,
     [{"text": "Title", "style": {"fontSize": 0.08, "boxColor": "#00000066"}}]),
    ("still", [("click", "#overlay-1-remove")], ["overlays"], [{"text": "Deep sea"}], MISSING),
    ("plain", [("#transition", "wipe_left")], ["transition", "type"], "crossfade", "wipe_left"),
    ("plain", [("#transition-seconds", "1")], ["transition", "duration"], 0.5, 1.0),
]


FIELD_SCENES = list(dict.fromkeys(scene for scene, *_ in FIELDS))


@pytest.mark.parametrize("scene_id", FIELD_SCENES)
@run_async
async def test_each_field_of_the_form_is_an_undoable_edit_of_that_field_only(form_project: Path, scene_id: str):
    """Every field of the scene's form, one after the other in one editor: each round trip ends undone."""
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, scene_id)
        await pilot.pause()
        for scene, steps, path, before, after in FIELDS:
            if scene != scene_id:
                continue
            await field_round_trip(pilot, form_project, scene_id, path, before, after,
                                   lambda: set_fields(pilot, steps))
            await pilot.press("ctrl+z", "ctrl+s")
            assert scene_of(saved(form_project), scene_id) == scene_of(PROJECT, scene_id), steps
            assert app.state.scene(scene_id).to_json_dict() == scene_of(PROJECT, scene_id), steps
            await pilot.pause()


@run_async
async def test_a_field_typed_with_keys_is_saved(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "still")
        await pilot.click("#motion-amount")
        await pilot.press("end", "backspace", "backspace", *"25")
        # the form commits after a pause in typing
        await wait_for(pilot, lambda: app.state.scene("still").visual.motion_amount == 0.25, what="the commit")
        await pilot.press("ctrl+s")
        assert scene_of(saved(form_project), "still")["visual"]["motionAmount"] == 0.25


@run_async
async def test_a_field_that_is_not_valid_is_kept_as_typed_and_named(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "clip")
        await set_fields(pilot, [("#trim-start", "1.5"), ("#trim-end", "1")])
        await pilot.press("escape")
        assert "trimEnd must be after trimStart" in app.state.draft_errors["clip"]
        await select_scene(pilot, app, "plain")
        await select_scene(pilot, app, "clip")
        assert app.screen.query_one("#trim-end", Input).value == "1", "what the user typed is kept"
        await set_fields(pilot, [("#trim-end", "2")])
        await pilot.press("escape", "ctrl+s")
        visual = scene_of(saved(form_project), "clip")["visual"]
        assert (visual["trimStart"], visual["trimEnd"]) == (1.5, 2.0) and not app.state.draft_errors


@run_async
async def test_a_recording_imported_from_outside_is_copied_and_chosen(form_project: Path, tmp_path: Path):
    (tmp_path / "elsewhere").mkdir()
    outside = write_wav_tone(tmp_path / "elsewhere" / "mine.wav", 1.0)
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "voice")
        importer = app.screen.query_one("#recording-import", Input)
        importer.focus()
        importer.value = str(outside)
        await pilot.press("enter")
        await pilot.pause()
        assert (form_project.parent / "assets" / "mine.wav").read_bytes() == outside.read_bytes()
        assert app.screen.query_one("#recording", Select).value == "mine.wav"
        await pilot.press("escape", "ctrl+s")
        assert scene_of(saved(form_project), "voice")["narration"]["audio"] == {"uploadName": "mine.wav"}


# --- the settings screen -----------------------------------------------------------------------------------

SETTINGS = [
    ("c", [("#captions-enabled", False)], ["captions", "enabled"], MISSING, False),
    ("c", [("#captions-style", "karaoke_neon")], ["captions", "style"], MISSING, "karaoke_neon"),
    ("c", [("#captions-position", "top")], ["captions", "position"], MISSING, "top"),
    ("c", [("#captions-words", "2")], ["captions", "wordsPerLine"], MISSING, 2),
    ("m", [("#music-source", "calm")], ["music"], MISSING, {"mood": "calm", "volume": 0.25, "ducking": True}),
    ("m", [("#music-source", "file:take.wav"), ("#music-volume", "0.5"), ("#music-ducking", False)], ["music"],
     MISSING, {"source": {"uploadName": "take.wav"}, "volume": 0.5, "ducking": False}),
    ("c", [("#voice-speed", "1.25")], ["voice", "speed"], MISSING, 1.25),
    ("c", [("#output-aspect", "16:9")], ["output", "aspectRatio"], "9:16", "16:9"),
    ("c", [("#output-resolution", "720p")], ["output", "resolution"], MISSING, "720p"),
    ("c", [("#output-quality", "studio")], ["output", "quality"], "draft", "studio"),
    ("c", [("#output-fps", "25")], ["output", "fps"], MISSING, 25),
]


@run_async
async def test_each_setting_is_an_undoable_edit(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        original = saved(form_project)
        for key, steps, path, before, after in SETTINGS:
            assert (at(original, path) is MISSING) if before is MISSING else at(original, path) == before, path
            await pilot.press(key)
            assert isinstance(app.screen, SettingsScreen)
            await set_fields(pilot, steps)
            await pilot.press("ctrl+s")  # on the settings screen: use these settings
            await pilot.pause()
            assert not isinstance(app.screen, SettingsScreen), path
            await pilot.press("ctrl+s")
            changed = saved(form_project)
            assert at(changed, path) == after, path
            assert {k: v for k, v in changed.items() if k != path[0]} == {
                k: v for k, v in original.items() if k != path[0]}, path
            await pilot.press("ctrl+z", "ctrl+s")
            assert saved(form_project) == original, path
            await pilot.press("ctrl+y", "ctrl+s")
            assert saved(form_project) == changed, path
            await pilot.press("ctrl+z", "ctrl+s")


@run_async
async def test_settings_changed_together_are_one_undo_step_and_bad_values_are_named(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        original = saved(form_project)
        await pilot.press("m")
        await set_fields(pilot, [("#music-source", "upbeat"), ("#music-volume", "2")])
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen), "an invalid value keeps the screen open"
        assert "music volume: 2 is outside 0 to 1" in str(app.screen.query_one("#settings-error").content)
        await set_fields(pilot, [("#music-volume", "0.3"), ("#captions-position", "center"), ("#output-fps", "24")])
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("ctrl+s")
        changed = saved(form_project)
        assert (changed["music"]["mood"], changed["captions"]["position"], changed["output"]["fps"]) == (
            "upbeat", "center", 24)
        await pilot.press("ctrl+z", "ctrl+s")
        assert saved(form_project) == original, "one undo takes back every setting changed together"


# --- keys follow the focus ---------------------------------------------------------------------------------


def footer_keys(app) -> dict[str, str]:
    """What the footer shows: key → label."""
    from textual.widgets._footer import FooterKey

    return {key.key_display: key.description for key in app.screen.query(FooterKey)}


@run_async
async def test_letters_act_on_the_list_and_chords_in_the_form_and_the_footer_says_which(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SMALL) as pilot:
        await select_scene(pilot, app, "ramp")  # silent: `t` says so instead of speaking
        await pilot.pause()
        on_list = footer_keys(app)
        assert {"a": "Add", "t": "Speech", "v": "Visual", "p": "Preview", "q": "Quit", "^s": "Save",
                "^r": "Render"}.items() <= on_list.items()
        assert "c" in on_list and "m" in on_list and "^t" not in on_list
        app.screen.query_one("#title", Input).focus()
        await pilot.pause()
        in_form = footer_keys(app)
        assert {"^t": "Speech", "^l": "Split", "^o": "Visual", "^g": "Preview", "esc": "Scenes", "^z": "Undo",
                "^s": "Save"}.items() <= in_form.items()
        assert "t" not in in_form and "a" not in in_form
        await pilot.press(*"tv")  # typing takes the letters...
        assert app.screen.query_one("#title", Input).value == "tv" and not app.state.speaking
        await pilot.press("ctrl+o")  # ...and a chord does what the letter does on the list
        await pilot.pause()
        from editor_tui.screens.visual_picker import VisualPicker

        assert isinstance(app.screen, VisualPicker)
        await pilot.press("escape")
        await pilot.press("ctrl+z")  # the editor's undo, from the form too
        await pilot.pause()
        assert app.state.scene("ramp").title is None


@slow("piper")
@run_async
async def test_ctrl_t_in_the_narration_box_speaks_and_the_list_shows_the_exact_length(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "plain")
        narration = app.screen.query_one("#narration", TextArea)
        narration.focus()
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.state.spoken_seconds(app.state.scene("plain")) is not None, what="speech")
        row = next(row for row in app.state.rows() if row.scene_id == "plain")
        length = app.state.scene_length("plain")
        assert row.exact and length.exact and row.seconds == length.seconds
        assert narration.text == PROJECT["scenes"][0]["narration"]["text"], "no 't' typed into the narration"


# --- lengths: one number, what it is made of, exact from the cache -------------------------------------------


def test_a_scene_length_adds_up_and_says_what_it_is_made_of():
    length = SceneLength(seconds=4.2, exact=True, fixed=False, speech=3.2667, speech_exact=True, pause=0.4,
                         transition=0.5, transition_kind="crossfade")
    assert length.describe() == "4.20 s = speech 3.27 + pause 0.40 + crossfade 0.50 into next + 0.03 (whole frames)"
    guess = SceneLength(seconds=2.5, exact=False, fixed=False, speech=2.1, speech_exact=False, pause=0.4,
                        transition=0.0, transition_kind="cut")
    assert guess.describe() == "~2.5 s = speech ~2.1 + pause 0.40 · speech estimated: t speaks it"
    silent = SceneLength(seconds=3.0, exact=True, fixed=True, speech=None, speech_exact=False, pause=0.4,
                         transition=0.0, transition_kind="cut")
    assert silent.describe() == "3.00 s, fixed (no narration)"
    fixed = SceneLength(seconds=3.0, exact=True, fixed=True, speech=2.14, speech_exact=False, pause=0.4,
                        transition=0.5, transition_kind="crossfade")
    assert fixed.describe() == "3.00 s, fixed (speech ~2.1)", "a fixed length is exact, its speech may not be"


@run_async
async def test_the_form_says_what_the_lists_number_is_made_of(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "plain")
        row = next(row for row in app.state.rows() if row.scene_id == "plain")
        note = str(app.screen.query_one("#length-note").content)
        shown = f"{row.seconds:.2f} s = speech " if row.exact else f"~{row.seconds:.1f} s = speech ~"
        assert note.startswith(shown), "the list's number, and what it is made of"
        assert "pause 0.40 + crossfade 0.50 into next" in note


@slow("piper")
def test_lengths_are_exact_when_the_cache_knows_the_speech_from_a_cli_render(form_project: Path, cache_dir: Path,
                                                                                tmp_path: Path):
    import asyncio

    document = {"version": "1", "name": "Rendered", "output": {"aspectRatio": "1:1", "resolution": "720p",
                                                               "quality": "draft"},
                "scenes": [{"id": "one", "narration": {"text": "Rendered from the command line."},
                            "visual": {"type": "color", "color": "#203040"}},
                           {"id": "two", "narration": {"text": "Then opened in the editor."},
                            "visual": {"type": "color", "color": "#304050"}}]}
    path = tmp_path / "rendered.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("render", path, "-o", tmp_path / "rendered.mp4", env={"REELFORGE_CACHE": str(cache_dir)})
    assert result.returncode == 0, result.stderr

    async def check() -> None:
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: all(row.exact for row in app.state.rows()), timeout=30,
                           what="the lengths from the cache")
            assert [row.speech for row in app.state.rows()] == ["fresh", "fresh"]
            assert app.state.total_seconds()[1], "the header's total is exact too"

    asyncio.run(check())


@run_async
async def test_a_recordings_real_length_shows_in_the_row(form_project: Path):
    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.spoken_seconds(app.state.scene("voice")) is not None, timeout=30,
                       what="the recording's length")
        row = next(row for row in app.state.rows() if row.scene_id == "voice")
        assert row.exact and row.seconds == pytest.approx(1.5 + 0.4, abs=1 / 30), "1.5 s of tone + 0.4 s pause"


@slow("faster_whisper", "piper")
@run_async
async def test_t_on_a_recorded_scene_recognizes_then_aligns_instead_of_speaking(form_project: Path):
    from reelforge.model.audio import Voice
    from reelforge.speech.tts import synthesize
    from reelforge.workspace import Workspace

    text = "The tide comes in twice a day."
    spoken = synthesize(text, Voice(), workspace=Workspace.from_environment())
    shutil.copyfile(spoken.audio_path, form_project.parent / "assets" / "tide.wav")
    data = saved(form_project)
    scene_of(data, "voice")["narration"] = {"audio": {"uploadName": "tide.wav"}}
    form_project.write_text(json.dumps(data), encoding="utf-8")

    app = make_app(form_project)
    async with app.run_test(size=SIZE) as pilot:
        await select_scene(pilot, app, "voice")
        await pilot.press("t")
        await wait_for(pilot, lambda: "voice" not in app.state.speaking, timeout=120, what="recognition")
        heard = app.state.scene("voice").narration.transcript
        assert heard and len(heard.split()) >= 5, "the words heard become the transcript, for the user to correct"
        assert app.screen.query_one("#narration", TextArea).text == heard
        row = next(row for row in app.state.rows() if row.scene_id == "voice")
        assert row.exact and row.seconds == pytest.approx(float(spoken.duration) + 0.4, abs=1 / 30)
        await pilot.press("ctrl+s")
        assert scene_of(saved(form_project), "voice")["narration"] == {"audio": {"uploadName": "tide.wav"},
                                                                       "transcript": heard}
        await set_fields(pilot, [("#narration", text)])  # the user corrects the words...
        await pilot.press("escape", "t")  # ...and t aligns them
        await wait_for(pilot, lambda: "voice" not in app.state.speaking, timeout=120, what="alignment")
        assert app.state.scene("voice").narration.transcript == text
        await pilot.press("ctrl+z", "ctrl+z", "ctrl+s")
        assert scene_of(saved(form_project), "voice")["narration"] == {"audio": {"uploadName": "tide.wav"}}


# --- 80x24: the unsaved mark stays, ids stay apart ------------------------------------------------------------


def test_the_header_keeps_the_unsaved_mark_and_the_length_at_80_columns():
    facts = HeaderFacts(name="Five facts about the ocean that will change how you see the sea", aspect="9:16",
                        width=1080, height=1920, seconds=25.2, exact=False, dirty=True, changed_on_disk=True,
                        file_name="five-facts-about-the-ocean.json")
    line = header_line(facts, 78)
    assert line.cell_len <= 78
    assert "● unsaved" in line.plain and "⚠ changed on disk" in line.plain and "~0:25.2" in line.plain
    assert line.plain.startswith("Five facts") and "five-facts-about-the-ocean.json" not in line.plain
    wide = header_line(facts, 200).plain
    assert "five-facts-about-the-ocean.json" in wide and "1080×1920" in wide


def test_a_long_id_is_cut_in_the_middle_so_a_splits_new_id_stays_distinct():
    assert short_id("the-ocean-is", 9) == "the-…n-is"
    assert short_id("the-ocean-is-2", 9) == "the-…is-2"
    assert short_id("intro", 9) == "intro"


@run_async
async def test_at_80x24_a_split_shows_two_different_ids_and_the_unsaved_mark(cache_dir: Path, tmp_path: Path):
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"version": "1", "name": "Five facts about the ocean that will change how you see it",
                                "scenes": [{"id": "the-ocean-covers-most", "narration": {
                                    "text": "The ocean covers most of the planet. Nobody has mapped all of it."},
                                    "visual": {"type": "color", "color": "#102030"}}]}), encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert scene_ids({"scenes": [s.to_json_dict() for s in app.state.document.scenes]}) == [
            "the-ocean-covers-most", "the-ocean-covers-most-2"]
        table = app.screen.query_one(SceneList)
        shown = [str(table.get_cell_at((row, 1))) for row in range(2)]
        assert shown[0] != shown[1] and shown[1].endswith("-2"), shown
        header = app.screen.query_one("#header")
        assert "● unsaved" in header.render().plain


# --- the preview's `g` ----------------------------------------------------------------------------------------


@run_async
async def test_g_in_a_terminal_without_image_protocols_shows_a_larger_view_and_says_why(form_project: Path,
                                                                                       tmp_path: Path,
                                                                                       monkeypatch):
    from editor_tui.messages import PreviewReady
    from editor_tui.widgets.preview import HalfBlockImage

    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    png = tmp_path / "frame.png"
    Image.new("RGB", (90, 160), (200, 40, 40)).save(png)
    app = make_app(form_project)
    async with app.run_test(size=SMALL) as pilot:
        screen = PreviewScreen("plain", 1.0)
        await app.push_screen(screen)
        await pilot.press("g")
        assert not screen.query_one(".dialog.preview").has_class("large"), "nothing to enlarge yet"
        screen.post_message(PreviewReady("plain", png=png))
        await pilot.pause()
        small = screen.query_one(HalfBlockImage).size
        await pilot.press("g")
        await pilot.pause()
        assert screen.query_one(".dialog.preview").has_class("large")
        large = screen.query_one(HalfBlockImage).size
        assert large.width > small.width and large.height > small.height
        messages = [notification.message for notification in app._notifications]  # noqa: SLF001
        assert any("tmux passes no image protocol" in message and str(png) in message for message in messages)


# --- snapshots: the settings screen and the visual settings, at 80x24 and 120x36 --------------------------------


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x36"])
def test_snapshot_settings(snap_compare, form_project: Path, fresh_cache: Path, size):
    async def open_settings(pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()

    assert snap_compare(make_app(form_project), terminal_size=size, run_before=open_settings)


@pytest.mark.parametrize("size", [SMALL, SIZE], ids=["80x24", "120x36"])
def test_snapshot_visual_form(snap_compare, form_project: Path, fresh_cache: Path, size):
    async def show_visual(pilot) -> None:
        await select_scene(pilot, pilot.app, "still")
        pilot.app.screen.query_one("#image-fit").focus()
        await settle(pilot)

    assert snap_compare(make_app(form_project), terminal_size=size, run_before=show_visual)
