"""The project object: saving (atomic, with a backup), reopening, the dirty flag, staleness, listeners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reelforge import edit
from reelforge.editing.project import (
    CAPTIONS,
    MUSIC,
    VIDEO,
    Project,
    ProjectEvent,
    StaleMarker,
    document_json,
    everything,
    scene_segment,
    stale_markers,
    tts,
)
from reelforge.errors import DocumentError, EditError, ReelforgeError
from reelforge.model import Document


def document_data() -> dict:
    return {
        "version": "1",
        "name": "Project test",
        "music": {"mood": "calm"},
        "scenes": [
            {
                "id": "a",
                "narration": {"text": "First scene. Two sentences."},
                "visual": {"type": "color", "color": "#111111"},
            },
            {"id": "b", "narration": {"text": "Second scene."}, "visual": {"type": "color", "color": "#222222"}},
            {
                "id": "rec",
                "narration": {"audio": {"uploadName": "take.wav"}, "transcript": "Recorded words."},
                "visual": {"type": "color", "color": "#333333"},
            },
            {"id": "quiet", "visual": {"type": "color", "color": "#444444"}, "duration": 1.5},
        ],
    }


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "video.json"
    file.write_text(json.dumps(document_data()), encoding="utf-8")
    return file


@pytest.fixture
def project(path: Path) -> Project:
    return Project.open(path)


def assert_same(a: Document, b: Document) -> None:
    assert a == b
    assert a.to_json_dict() == b.to_json_dict()


# --- document_json ------------------------------------------------------------------------------------------


def test_document_json_is_indented_by_two_ends_with_a_newline_and_round_trips(project: Project) -> None:
    text = document_json(project.document)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n  "version": "1",\n  "name": "Project test",')
    assert json.loads(text) == document_data()


def test_document_json_keeps_non_ascii_text_readable(project: Project) -> None:
    project.apply(edit.update_scene("a", title="Überblick – café"))
    assert "Überblick – café" in document_json(project.document)


# --- open, new, save ----------------------------------------------------------------------------------------


def test_open_reads_the_file(project: Project, path: Path) -> None:
    assert project.path == path
    assert project.document.to_json_dict() == document_data()
    assert not project.dirty and not project.can_undo and not project.can_redo
    assert project.stale == frozenset()


def test_open_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "1", "name": "x"}', encoding="utf-8")
    with pytest.raises(DocumentError, match="at least one scene or one block"):
        Project.open(bad)


def test_new_project_is_dirty_until_saved_and_writes_no_backup(tmp_path: Path) -> None:
    target = tmp_path / "fresh.json"
    project = Project.new(Document.model_validate(document_data()), target)
    assert project.dirty and not target.exists()
    project.save()
    assert not project.dirty
    assert target.read_text(encoding="utf-8") == document_json(project.document)
    assert not (tmp_path / "fresh.json.bak").exists()


def test_new_refuses_a_document_that_fails_the_checks(tmp_path: Path) -> None:
    data = document_data()
    data["scenes"].append(dict(data["scenes"][0]))
    document = Document.model_validate(data)  # the model allows it; the checks do not
    with pytest.raises(DocumentError, match="duplicate scene id 'a'"):
        Project.new(document, tmp_path / "dup.json")


def test_save_keeps_the_previous_version_as_bak(project: Project, path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    project.apply(edit.update_scene("a", title="One"))
    project.save()
    backup = path.with_name("video.json.bak")
    assert backup.read_text(encoding="utf-8") == original
    first_save = path.read_text(encoding="utf-8")

    project.apply(edit.update_scene("a", title="Two"))
    project.save()
    assert backup.read_text(encoding="utf-8") == first_save
    assert json.loads(path.read_text(encoding="utf-8"))["scenes"][0]["title"] == "Two"


def test_save_replaces_the_file_rather_than_rewriting_it(project: Project, path: Path, tmp_path: Path) -> None:
    # A hard link made before saving still sees the old content only if the save wrote a new file and
    # renamed it into place; writing into the existing file would change what the link shows too.
    original = path.read_bytes()
    link = tmp_path / "link-to-old.json"
    os.link(path, link)
    project.apply(edit.update_scene("a", title="Changed"))
    project.save()
    assert link.read_bytes() == original
    assert path.read_bytes() != original
    assert os.stat(path).st_ino != os.stat(link).st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link-to-old.json", "video.json", "video.json.bak"]


def test_save_then_reopen_gives_the_same_document(project: Project, path: Path) -> None:
    for op in (edit.split_scene("a", 5), edit.set_captions(style="karaoke_neon"), edit.set_voice(speed=1.1),
               edit.move_scene("quiet", 0), edit.set_music({"source": {"path": "m.mp3"}})):
        project.apply(op)
    project.save()
    reopened = Project.open(path)
    assert_same(reopened.document, project.document)
    assert path.read_text(encoding="utf-8") == document_json(project.document)


def test_save_as_moves_the_project_to_the_new_file(project: Project, path: Path, tmp_path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    project.apply(edit.update_scene("a", title="Elsewhere"))
    other = tmp_path / "copy.json"
    project.save(other)
    assert project.path == other and not project.dirty
    assert path.read_text(encoding="utf-8") == original  # the old file is untouched
    assert_same(Project.open(other).document, project.document)
    assert not (tmp_path / "copy.json.bak").exists()


def test_failed_save_raises_a_user_error_and_keeps_the_project_dirty(project: Project, tmp_path: Path) -> None:
    project.apply(edit.update_scene("a", title="Unsaved"))
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    with pytest.raises(ReelforgeError, match="cannot save"):
        project.save(folder)
    assert project.dirty and project.path == tmp_path / "video.json"
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert not any(name.name.endswith(".tmp") for name in tmp_path.iterdir())


# --- dirty flag ---------------------------------------------------------------------------------------------


def test_dirty_follows_the_saved_version_through_undo_and_redo(project: Project) -> None:
    project.apply(edit.update_scene("a", title="One"))
    assert project.dirty
    project.undo()
    assert not project.dirty  # back to what is on disk
    project.redo()
    project.save()
    assert not project.dirty
    project.apply(edit.update_scene("a", title="Two"))
    assert project.dirty
    project.undo()
    assert not project.dirty
    project.undo()
    assert project.dirty  # now before the saved version
    project.redo()
    assert not project.dirty


def test_an_edit_after_undoing_past_the_save_stays_dirty(project: Project) -> None:
    project.apply(edit.update_scene("a", title="Saved"))
    project.save()
    project.undo()
    project.apply(edit.update_scene("a", title="Other"))
    assert project.dirty and not project.can_redo


def test_an_edit_that_changes_nothing_is_not_recorded(project: Project) -> None:
    events: list[ProjectEvent] = []
    project.subscribe(lambda _p, event: events.append(event))
    project.apply(edit.set_captions())
    project.apply(edit.update_scene("a", title=None))  # it has no title
    assert not project.dirty and not project.can_undo and events == []


# --- undo and redo ------------------------------------------------------------------------------------------


def test_undo_and_redo_with_nothing_to_do_are_refused(project: Project) -> None:
    with pytest.raises(EditError, match="nothing to undo"):
        project.undo()
    with pytest.raises(EditError, match="nothing to redo"):
        project.redo()


def test_a_new_edit_clears_redo(project: Project) -> None:
    project.apply(edit.update_scene("a", title="One"))
    project.undo()
    assert project.can_redo and project.redo_label == "edit scene 'a'"
    project.apply(edit.update_scene("b", title="Other"))
    assert not project.can_redo and project.redo_label is None
    assert project.undo_label == "edit scene 'b'"


# --- staleness ----------------------------------------------------------------------------------------------


def test_a_narration_edit_makes_only_that_scenes_tts_stale(project: Project) -> None:
    event = project.apply(edit.update_scene("b", narration={"text": "New words for b."}))
    assert event.stale == {tts("b"), scene_segment("b"), VIDEO}
    assert project.stale == {tts("b"), scene_segment("b"), VIDEO}
    assert [m for m in project.stale if m.kind == "tts"] == [tts("b")]


def test_a_visual_edit_makes_the_segment_stale_but_not_the_tts(project: Project) -> None:
    project.apply(edit.set_visual("a", {"type": "color", "color": "#abcdef"}))
    assert project.stale == {scene_segment("a"), VIDEO}


def test_a_voice_change_makes_the_tts_of_every_text_scene_stale(project: Project) -> None:
    project.apply(edit.set_voice(speed=1.3))
    assert project.stale == {tts("a"), tts("b"), scene_segment("a"), scene_segment("b"), VIDEO}
    assert tts("rec") not in project.stale  # a recording does not depend on the voice


def test_music_and_captions_changes_mark_only_their_tracks(project: Project) -> None:
    assert project.apply(edit.set_music({"mood": "upbeat"})).stale == {MUSIC, VIDEO}
    assert project.apply(edit.set_captions(position="top")).stale == {CAPTIONS, VIDEO}


def test_an_output_change_makes_everything_stale(project: Project) -> None:
    old = project.document
    new = Document.model_validate({**document_data(), "output": {"fps": 60}})
    assert stale_markers(old, new) == everything(new)
    assert everything(new) == {VIDEO, MUSIC, CAPTIONS, tts("a"), tts("b"), tts("rec"),
                               *(scene_segment(i) for i in ("a", "b", "rec", "quiet"))}


def test_structure_changes_mark_what_they_create(project: Project) -> None:
    assert project.apply(edit.move_scene("quiet", 0)).stale == {VIDEO}
    assert project.apply(edit.remove_scene("b")).stale == {VIDEO}
    assert project.apply(edit.duplicate_scene("a")).stale == {tts("a-2"), scene_segment("a-2"), VIDEO}
    assert project.apply(edit.duplicate_scene("quiet")).stale == {scene_segment("quiet-2"), VIDEO}
    assert project.apply(edit.split_scene("a", 0)).stale == {
        tts("a"), scene_segment("a"), tts("a-3"), scene_segment("a-3"), VIDEO,
    }


def test_sync_durations_marks_the_scenes_it_changed(tmp_path: Path) -> None:
    data = document_data()
    data["scenes"][1]["duration"] = 4.0
    project = Project.new(Document.model_validate(data), tmp_path / "p.json")
    assert project.apply(edit.sync_durations()).stale == {scene_segment("b"), VIDEO}


def test_staleness_accumulates_until_marked_fresh(project: Project) -> None:
    project.apply(edit.update_scene("a", narration={"text": "Changed."}))
    project.apply(edit.set_music({"mood": "dramatic"}))
    assert project.stale == {tts("a"), scene_segment("a"), MUSIC, VIDEO}
    project.undo()  # the music goes back; what the narration edit made stale stays stale
    assert project.stale == {tts("a"), scene_segment("a"), MUSIC, VIDEO}


def test_undo_marks_what_it_changes(project: Project) -> None:
    project.apply(edit.update_scene("a", narration={"text": "Changed."}))
    project.mark_fresh(*project.stale)
    assert project.stale == frozenset()
    event = project.undo()
    assert event.kind == "undo" and event.stale == {tts("a"), scene_segment("a"), VIDEO}
    assert project.stale == event.stale
    project.mark_fresh(*project.stale)
    assert project.redo().stale == {tts("a"), scene_segment("a"), VIDEO}


def test_mark_fresh_removes_only_what_it_names(project: Project) -> None:
    project.apply(edit.set_voice(speed=1.2))
    project.mark_fresh(tts("a"))
    assert tts("a") not in project.stale and tts("b") in project.stale
    project.mark_fresh(StaleMarker("music"))  # not stale: nothing happens
    assert tts("b") in project.stale


def test_stale_markers_compare_values_not_spelling() -> None:
    plain = Document.model_validate(document_data())
    spelled_out = Document.model_validate({**document_data(), "language": "en", "captions": {"style": "bold_pop"}})
    assert plain.to_json_dict() != spelled_out.to_json_dict()
    assert stale_markers(plain, spelled_out) == frozenset()


def test_language_change_marks_text_speech_and_captions() -> None:
    old = Document.model_validate(document_data())
    new = Document.model_validate({**document_data(), "language": "de"})
    assert stale_markers(old, new) == {tts("a"), tts("b"), scene_segment("a"), scene_segment("b"), CAPTIONS, VIDEO}


def test_theme_change_marks_every_segment_and_the_captions() -> None:
    old = Document.model_validate(document_data())
    new = Document.model_validate({**document_data(), "theme": {"primary": "#000000"}})
    assert stale_markers(old, new) == {CAPTIONS, VIDEO, *(scene_segment(i) for i in ("a", "b", "rec", "quiet"))}


def test_a_name_change_marks_only_the_video() -> None:
    old = Document.model_validate(document_data())
    new = Document.model_validate({**document_data(), "name": "Renamed"})
    assert stale_markers(old, new) == {VIDEO}


# --- listeners ----------------------------------------------------------------------------------------------


def test_listeners_hear_every_change_until_they_unsubscribe(project: Project) -> None:
    heard: list[tuple[Project, ProjectEvent]] = []
    unsubscribe = project.subscribe(lambda p, event: heard.append((p, event)))
    project.apply(edit.update_scene("a", title="T"))
    project.undo()
    project.redo()
    project.mark_fresh(VIDEO)
    project.save()
    assert [event.kind for _p, event in heard] == ["edit", "undo", "redo", "fresh", "save"]
    assert all(p is project for p, _event in heard)
    assert heard[0][1].label == "edit scene 'a'" and heard[0][1].stale == {scene_segment("a"), VIDEO}
    assert heard[3][1].stale == {VIDEO}

    unsubscribe()
    project.apply(edit.update_scene("a", title="U"))
    assert len(heard) == 5


def test_listeners_see_the_new_state(project: Project) -> None:
    seen = []
    project.subscribe(lambda p, _event: seen.append((p.document.scenes[0].title, p.dirty, p.can_undo)))
    project.apply(edit.update_scene("a", title="Now"))
    assert seen == [("Now", True, True)]


# --- core/UI split ------------------------------------------------------------------------------------------


def test_the_core_does_not_import_textual() -> None:
    code = "import sys, reelforge.editing.project, reelforge.editing.operations; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
