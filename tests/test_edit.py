"""Edit operations: each one's effect, undo/redo round trips, and refusals that leave the project unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reelforge import edit
from reelforge.editing.project import Project
from reelforge.errors import EditError
from reelforge.model import ColorVisual, Document, Music, Narration, Scene

THREE_SENTENCES = "The sea is deep. It covers most of the planet! Nobody has mapped all of it."


def document_data() -> dict:
    return {
        "version": "1",
        "name": "Edit test",
        "music": {"mood": "calm", "volume": 0.2},
        "captions": {"style": "minimal_white"},
        "scenes": [
            {
                "id": "intro",
                "title": "Intro",
                "narration": {"text": THREE_SENTENCES},
                "visual": {"type": "gradient", "colors": ["#000000", "#ffffff"]},
                "overlays": [{"text": "Deep sea"}],
                "transition": {"type": "crossfade", "duration": 0.5},
            },
            {
                "id": "recorded",
                "narration": {"audio": {"uploadName": "take1.wav"}, "transcript": "First. Second."},
                "visual": {"type": "color", "color": "#112233"},
            },
            {"id": "silent", "visual": {"type": "color", "color": "#000000"}, "duration": 2.0},
            {
                "id": "fixed",
                "narration": {"text": "One short line. Then a much longer second sentence with many more words in it."},
                "visual": {"type": "card", "card": {"card": "title", "title": "Fixed"}},
                "duration": 8.0,
            },
        ],
    }


@pytest.fixture
def project(tmp_path: Path) -> Project:
    path = tmp_path / "video.json"
    path.write_text(json.dumps(document_data(), indent=2), encoding="utf-8")
    return Project.open(path)


def assert_same(a: Document, b: Document) -> None:
    """Equal as values and written the same way (defaults set or unset alike)."""
    assert a == b
    assert a.to_json_dict() == b.to_json_dict()


def scene_ids(project: Project) -> list[str]:
    return [scene.id for scene in project.document.scenes]


def scene(project: Project, scene_id: str) -> Scene:
    return project.document.scenes[project.document.scene_index(scene_id)]


# --- every op: its effect, and undo/redo back and forth ------------------------------------------------------

NEW_SCENE = {"id": "extra", "visual": {"type": "color", "color": "#ff0000"}, "duration": 1.5}

EVERY_OP = {
    "add_scene": lambda: edit.add_scene(NEW_SCENE, 1),
    "update_scene": lambda: edit.update_scene("intro", title="Opening"),
    "remove_scene": lambda: edit.remove_scene("silent"),
    "move_scene": lambda: edit.move_scene("intro", 3),
    "duplicate_scene": lambda: edit.duplicate_scene("intro"),
    "split_scene": lambda: edit.split_scene("intro", 20),
    "set_visual": lambda: edit.set_visual("intro", ColorVisual(type="color", color="#abcdef")),
    "set_music": lambda: edit.set_music({"mood": "upbeat"}),
    "remove_music": lambda: edit.set_music(None),
    "set_captions": lambda: edit.set_captions(style="karaoke_neon"),
    "set_voice": lambda: edit.set_voice(speed=1.25),
    "sync_durations": lambda: edit.sync_durations(),
}


@pytest.mark.parametrize("name", sorted(EVERY_OP))
def test_every_op_undoes_and_redoes_exactly(project: Project, name: str) -> None:
    original = project.document
    project.apply(EVERY_OP[name]())
    edited = project.document
    assert edited != original
    assert project.can_undo and not project.can_redo

    project.undo()
    assert_same(project.document, original)
    assert not project.can_undo and project.can_redo
    assert not project.dirty

    project.redo()
    assert_same(project.document, edited)
    assert project.can_undo and not project.can_redo
    assert project.dirty


def test_many_edits_undo_back_to_the_start_and_redo_to_the_end(project: Project) -> None:
    original = project.document
    states = [original]
    for name in sorted(EVERY_OP):
        if name == "remove_music":
            continue  # set_music already replaced it; removing is tested alone
        project.apply(EVERY_OP[name]())
        states.append(project.document)
    for expected in reversed(states[:-1]):
        project.undo()
        assert_same(project.document, expected)
    assert not project.can_undo
    for expected in states[1:]:
        project.redo()
        assert_same(project.document, expected)
    assert not project.can_redo


# --- add ----------------------------------------------------------------------------------------------------


def test_add_scene_inserts_at_an_index(project: Project) -> None:
    project.apply(edit.add_scene(NEW_SCENE, 1))
    assert scene_ids(project) == ["intro", "extra", "recorded", "silent", "fixed"]
    assert scene(project, "extra").to_json_dict() == NEW_SCENE


def test_add_scene_appends_a_model_without_an_index(project: Project) -> None:
    new = Scene(id="outro", narration=Narration(text="Bye."), visual=ColorVisual(type="color", color="#000"))
    project.apply(edit.add_scene(new))
    assert scene_ids(project)[-1] == "outro"
    assert scene(project, "outro") == new


def test_add_scene_at_the_end_by_index(project: Project) -> None:
    project.apply(edit.add_scene(NEW_SCENE, 4))
    assert scene_ids(project)[-1] == "extra"


@pytest.mark.parametrize(
    "op, message",
    [
        (lambda: edit.add_scene({**NEW_SCENE, "id": "intro"}), "duplicate scene id 'intro'"),
        (lambda: edit.add_scene(NEW_SCENE, 5), "position 5 is out of range (0 to 4)"),
        (lambda: edit.add_scene(NEW_SCENE, -1), "out of range"),
        (lambda: edit.add_scene({"id": "x", "visual": {"type": "color", "color": "#000"}}), "needs a fixed 'duration'"),
        (lambda: edit.add_scene({**NEW_SCENE, "id": "bad id"}), "scenes[4].id"),
    ],
)
def test_add_scene_refusals(project: Project, op, message: str) -> None:
    with pytest.raises(EditError, match=_literal(message)):
        project.apply(op())


# --- update -------------------------------------------------------------------------------------------------


def test_update_scene_with_python_fields(project: Project) -> None:
    project.apply(edit.update_scene("intro", title="Opening", narration=Narration(text="Hello there.")))
    intro = scene(project, "intro")
    assert intro.title == "Opening"
    assert intro.narration == Narration(text="Hello there.")
    assert intro.overlays[0].text == "Deep sea"  # untouched fields stay


def test_update_scene_with_wire_changes(project: Project) -> None:
    project.apply(edit.update_scene("fixed", {"padding": 1.0, "transition": {"type": "wipe_up"}}))
    fixed = scene(project, "fixed")
    assert fixed.padding == 1.0
    assert fixed.transition is not None and fixed.transition.type == "wipe_up"


def test_update_scene_none_goes_back_to_the_default(project: Project) -> None:
    project.apply(edit.update_scene("fixed", duration=None, title=None))
    wire = scene(project, "fixed").to_json_dict()
    assert "duration" not in wire and scene(project, "fixed").duration == "auto"


def test_update_scene_can_rename(project: Project) -> None:
    project.apply(edit.update_scene("intro", id="opening"))
    assert scene_ids(project)[0] == "opening"


@pytest.mark.parametrize(
    "op, message",
    [
        (
            lambda: edit.update_scene("nope", title="x"),
            "there is no scene 'nope' (scenes: intro, recorded, silent, fixed)",
        ),
        (lambda: edit.update_scene("intro", {"colour": "red"}), "Scene has no field 'colour'"),
        (lambda: edit.update_scene("intro", narration=None), "needs a fixed 'duration'"),
        (lambda: edit.update_scene("intro", id="silent"), "duplicate scene id 'silent'"),
        (lambda: edit.update_scene("intro", padding=9), "scenes[0].padding"),
        (lambda: edit.update_scene("silent", duration=700), "the limit is 600 s"),
    ],
)
def test_update_scene_refusals(project: Project, op, message: str) -> None:
    with pytest.raises(EditError, match=_literal(message)):
        project.apply(op())


# --- remove, move, duplicate --------------------------------------------------------------------------------


def test_remove_scene(project: Project) -> None:
    project.apply(edit.remove_scene("recorded"))
    assert scene_ids(project) == ["intro", "silent", "fixed"]


def test_remove_the_only_content_is_refused(tmp_path: Path) -> None:
    data = document_data()
    data["scenes"] = data["scenes"][:1]
    project = Project.new(Document.model_validate(data), tmp_path / "one.json")
    with pytest.raises(EditError, match="needs at least one scene or one block"):
        project.apply(edit.remove_scene("intro"))


def test_remove_unknown_scene_is_refused(project: Project) -> None:
    with pytest.raises(EditError, match="no scene 'ghost'"):
        project.apply(edit.remove_scene("ghost"))


@pytest.mark.parametrize(
    "to_index, expected",
    [
        (0, ["silent", "intro", "recorded", "fixed"]),
        (1, ["intro", "silent", "recorded", "fixed"]),
        (3, ["intro", "recorded", "fixed", "silent"]),
    ],
)
def test_move_scene(project: Project, to_index: int, expected: list[str]) -> None:
    project.apply(edit.move_scene("silent", to_index))
    assert scene_ids(project) == expected


@pytest.mark.parametrize("to_index", [4, -1])
def test_move_scene_out_of_range_is_refused(project: Project, to_index: int) -> None:
    with pytest.raises(EditError, match="out of range"):
        project.apply(edit.move_scene("silent", to_index))


def test_move_scene_to_where_it_is_records_nothing(project: Project) -> None:
    project.apply(edit.move_scene("silent", 2))
    assert not project.can_undo and not project.dirty


def test_duplicate_scene_inserts_a_copy_after_it_with_a_new_id(project: Project) -> None:
    project.apply(edit.duplicate_scene("intro"))
    assert scene_ids(project) == ["intro", "intro-2", "recorded", "silent", "fixed"]
    copy = scene(project, "intro-2").to_json_dict()
    original = scene(project, "intro").to_json_dict()
    assert {**copy, "id": "intro"} == original
    project.apply(edit.duplicate_scene("intro"))
    assert scene_ids(project)[:3] == ["intro", "intro-3", "intro-2"]


# --- split --------------------------------------------------------------------------------------------------


def test_split_scene_at_the_nearest_sentence_boundary(project: Project) -> None:
    # Boundaries of THREE_SENTENCES are after "deep." (16) and after "planet!" (46).
    project.apply(edit.split_scene("intro", 40))
    assert scene_ids(project) == ["intro", "intro-2", "recorded", "silent", "fixed"]
    first, second = scene(project, "intro"), scene(project, "intro-2")
    assert first.narration == Narration(text="The sea is deep. It covers most of the planet!")
    assert second.narration == Narration(text="Nobody has mapped all of it.")
    assert first.visual == second.visual == Document.model_validate(document_data()).scenes[0].visual
    assert first.title == second.title == "Intro"


def test_split_scene_picks_the_other_boundary_when_nearer(project: Project) -> None:
    project.apply(edit.split_scene("intro", 3))
    assert scene(project, "intro").narration.text == "The sea is deep."
    assert scene(project, "intro-2").narration.text == "It covers most of the planet! Nobody has mapped all of it."


def test_split_scene_moves_the_transition_to_the_second_part_and_keeps_overlays_on_the_first(project: Project) -> None:
    project.apply(edit.split_scene("intro", 20))
    first, second = scene(project, "intro"), scene(project, "intro-2")
    assert first.transition is None
    assert second.transition is not None and second.transition.type == "crossfade"
    assert [o.text for o in first.overlays] == ["Deep sea"]
    assert second.overlays == []


def test_split_scene_shares_a_fixed_duration_by_speech(project: Project) -> None:
    project.apply(edit.split_scene("fixed", 10))
    first, second = scene(project, "fixed"), scene(project, "fixed-2")
    assert first.narration.text == "One short line."
    assert first.duration + second.duration == pytest.approx(8.0, abs=0.002)
    assert 0 < first.duration < second.duration  # the second part has far more words


@pytest.mark.parametrize(
    "scene_id, at_char, message",
    [
        ("recorded", 3, "its narration is a recording"),
        ("silent", 0, "it has no narration to split"),
        ("intro", 500, "character 500 is outside its narration"),
        ("ghost", 0, "there is no scene 'ghost'"),
    ],
)
def test_split_scene_refusals(project: Project, scene_id: str, at_char: int, message: str) -> None:
    with pytest.raises(EditError, match=_literal(message)):
        project.apply(edit.split_scene(scene_id, at_char))


def test_split_of_a_single_sentence_is_refused(project: Project) -> None:
    project.apply(edit.update_scene("intro", narration={"text": "Only one sentence here, about 3.5 km deep."}))
    with pytest.raises(EditError, match="single sentence"):
        project.apply(edit.split_scene("intro", 10))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One. Two.", [4]),
        ("One! Two? Three…  Four", [4, 9, 16]),
        ('He said "stop." Then left.', [15]),
        ("Pi is 3.14 exactly.", []),
        ("Trailing space only.   ", []),
    ],
)
def test_sentence_boundaries(text: str, expected: list[int]) -> None:
    assert edit.sentence_boundaries(text) == expected


# --- visual, music, captions, voice -------------------------------------------------------------------------


def test_set_visual_with_a_model_and_with_wire_form(project: Project) -> None:
    project.apply(edit.set_visual("intro", ColorVisual(type="color", color="#abcdef")))
    assert scene(project, "intro").visual == ColorVisual(type="color", color="#abcdef")
    image = {"type": "image", "source": {"path": "media/sea.jpg"}, "motion": "pan_left"}
    project.apply(edit.set_visual("intro", image))
    visual = scene(project, "intro").visual
    assert visual.type == "image" and visual.source.path == "media/sea.jpg" and visual.motion == "pan_left"


def test_set_visual_refuses_an_invalid_visual(project: Project) -> None:
    with pytest.raises(EditError, match=_literal("scenes[0].visual")):
        project.apply(edit.set_visual("intro", {"type": "hologram"}))


def test_set_music_and_remove_it(project: Project) -> None:
    project.apply(edit.set_music(Music(source={"uploadName": "song.mp3"}, volume=0.1)))
    assert project.document.music is not None and project.document.music.source.upload_name == "song.mp3"
    project.apply(edit.set_music(None))
    assert project.document.music is None and "music" not in project.document.to_json_dict()


def test_set_music_refuses_music_without_a_source_or_mood(project: Project) -> None:
    with pytest.raises(EditError, match="exactly one of 'source'"):
        project.apply(edit.set_music({"volume": 0.5}))


def test_set_captions_merges_fields(project: Project) -> None:
    project.apply(edit.set_captions(position="top", words_per_line=2))
    assert project.document.captions.to_json_dict() == {"style": "minimal_white", "position": "top", "wordsPerLine": 2}
    project.apply(edit.set_captions({"wordsPerLine": None, "style": None}))
    assert project.document.captions.to_json_dict() == {"position": "top"}


@pytest.mark.parametrize(
    "op, message",
    [
        (lambda: edit.set_captions(style="comic_sans"), "captions.style: must be"),
        (lambda: edit.set_captions(size=3), "Captions has no field 'size'"),
        (lambda: edit.set_voice(speed=5), "voice.speed"),
        (lambda: edit.set_voice(voice_id="../evil"), "voice.voiceId: must be a voice name"),
    ],
)
def test_settings_refusals(project: Project, op, message: str) -> None:
    with pytest.raises(EditError, match=_literal(message)):
        project.apply(op())


def test_set_voice(project: Project) -> None:
    project.apply(edit.set_voice(voice_id="en_GB-alba-medium", speed=1.1))
    assert project.document.voice.voice_id == "en_GB-alba-medium"
    assert project.document.voice.speed == 1.1


def test_set_output(project: Project) -> None:
    project.apply(edit.set_output(aspect_ratio="16:9", fps=25))
    assert project.document.output.to_json_dict() == {"aspectRatio": "16:9", "fps": 25}
    with pytest.raises(EditError, match=_literal("output.fps")):
        project.apply(edit.set_output(fps=5))
    project.undo()
    assert project.document.output.to_json_dict() == {}


def test_combined_edits_are_one_undo_step_and_refused_together(project: Project) -> None:
    before = project.document
    project.apply(edit.combined("change the settings", [edit.set_captions(position="top"), edit.set_voice(speed=1.2),
                                                        edit.set_music(None)]))
    assert (project.document.captions.position, project.document.voice.speed, project.document.music) == (
        "top", 1.2, None)
    project.undo()
    assert_same(project.document, before)
    with pytest.raises(EditError, match=_literal("voice.speed")):
        project.apply(edit.combined("change the settings", [edit.set_captions(position="top"), edit.set_voice(speed=9)]))
    assert_same(project.document, before)


# --- sync durations -----------------------------------------------------------------------------------------


def test_sync_durations_resets_narrated_fixed_scenes_only(project: Project) -> None:
    project.apply(edit.sync_durations())
    assert scene(project, "fixed").duration == "auto"
    assert "duration" not in scene(project, "fixed").to_json_dict()
    assert scene(project, "silent").duration == 2.0  # no narration to fit


def test_sync_durations_with_nothing_to_sync_records_nothing(project: Project) -> None:
    project.apply(edit.sync_durations())
    project.apply(edit.sync_durations())
    assert project.undo_label == "sync durations"
    project.undo()
    assert not project.can_undo


# --- refusals leave the project unchanged -------------------------------------------------------------------

REFUSED_OPS = {
    "add duplicate id": lambda: edit.add_scene({**NEW_SCENE, "id": "fixed"}),
    "update unknown scene": lambda: edit.update_scene("ghost", title="x"),
    "remove unknown": lambda: edit.remove_scene("ghost"),
    "move out of range": lambda: edit.move_scene("intro", 99),
    "duplicate unknown": lambda: edit.duplicate_scene("ghost"),
    "split a recording": lambda: edit.split_scene("recorded", 2),
    "invalid visual": lambda: edit.set_visual("intro", {"type": "color", "color": "red"}),
    "invalid music": lambda: edit.set_music({"mood": "sad"}),
    "invalid captions": lambda: edit.set_captions(position="left"),
    "invalid voice": lambda: edit.set_voice(engine="cloud"),
}


@pytest.mark.parametrize("name", sorted(REFUSED_OPS))
def test_refused_op_leaves_everything_unchanged(project: Project, name: str) -> None:
    project.apply(edit.update_scene("intro", title="Edited"))  # so there is history and a dirty flag to keep
    project.apply(edit.update_scene("intro", title="Edited again"))
    project.undo()
    before = (project.document, project.document.to_json_dict(), project.can_undo, project.can_redo,
              project.undo_label, project.redo_label, project.dirty, project.stale)
    events = []
    project.subscribe(lambda _project, event: events.append(event))

    with pytest.raises(EditError, match="^cannot "):
        project.apply(REFUSED_OPS[name]())

    after = (project.document, project.document.to_json_dict(), project.can_undo, project.can_redo,
             project.undo_label, project.redo_label, project.dirty, project.stale)
    assert after == before
    assert after[0] is before[0]
    assert events == []
    project.redo()  # the redo stack survived the refusal
    assert scene(project, "intro").title == "Edited again"


# --- new ids ------------------------------------------------------------------------------------------------


def test_new_scene_id(project: Project) -> None:
    document = project.document
    assert edit.new_scene_id(document, "outro") == "outro"
    assert edit.new_scene_id(document, "intro") == "intro-2"
    assert edit.new_scene_id(document, "My scene!") == "My-scene"
    assert edit.new_scene_id(document, "!!!") == "scene"
    long_id = edit.new_scene_id(document, "x" * 100)
    assert long_id == "x" * 64


def test_new_scene_id_counts_past_taken_numbers_and_stays_within_64_characters(project: Project) -> None:
    long_id = "a" * 64
    project.apply(edit.add_scene({**NEW_SCENE, "id": long_id}))
    project.apply(edit.duplicate_scene(long_id))
    project.apply(edit.duplicate_scene(long_id))
    ids = scene_ids(project)
    assert "a" * 62 + "-2" in ids and "a" * 62 + "-3" in ids
    assert all(len(i) <= 64 for i in ids)


def test_copy_of_a_numbered_id_keeps_its_number(project: Project) -> None:
    project.apply(edit.update_scene("intro", id="fact-2"))
    project.apply(edit.add_scene({**NEW_SCENE, "id": "fact-3"}))
    project.apply(edit.duplicate_scene("fact-2"))
    assert scene_ids(project)[:2] == ["fact-2", "fact-2-2"]


def _literal(text: str) -> str:
    return re.escape(text)
