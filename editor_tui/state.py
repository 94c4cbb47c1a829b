"""The editor's state of record, without Textual: the project, its autosave, changes on disk and known speech lengths."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from editor_tui.drafts import SceneDraft
from reelforge import edit
from reelforge.document.checks import assets_folder
from reelforge.document.estimate import SceneEstimate, document_seconds, estimate_scenes, estimated_speech
from reelforge.document.lengths import has_transition_out
from reelforge.document.loader import read_json_file, validate_data
from reelforge.editing.project import Project, ProjectEvent, document_json, tts
from reelforge.errors import DocumentError, EditError, Problem, ReelforgeError
from reelforge.fileio import write_atomic
from reelforge.model import Document, Scene
from reelforge.model.visuals import visual_label

AUTOSAVE_SUFFIX = ".autosave"
AUDIO_SUFFIXES = {".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac"}
NEW_SCENE_TEXT = "A new scene: write what the voice says here."


class DiskChanged(ReelforgeError):
    """The project file was changed by another program since it was opened or saved."""


def audio_files(folder: Path) -> list[str]:
    """The audio files in a folder (the assets folder: recordings and music), by name."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))


def autosave_path(path: Path) -> Path:
    """Where the autosave of the project at `path` lives: PROJECT.json.autosave beside it."""
    return path.with_name(path.name + AUTOSAVE_SUFFIX)


def autosave_to_offer(path: Path) -> Path | None:
    """The autosave of `path` when it is newer than the project (or the project is gone), else None."""
    saved = autosave_path(path)
    if not saved.is_file():
        return None
    if not path.exists():
        return saved
    return saved if saved.stat().st_mtime_ns > path.stat().st_mtime_ns else None


@dataclass(frozen=True)
class DiskStamp:
    """What the project file looked like when last read or written: enough to tell whether someone changed it."""

    size: int
    mtime_ns: int
    digest: str

    @classmethod
    def of(cls, path: Path) -> "DiskStamp | None":
        try:
            data = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(stat.st_size, stat.st_mtime_ns, hashlib.sha256(data).hexdigest())


VoiceKey = tuple[str, str, float]
"""A voice as far as its speech's length goes: engine, voice id, speed."""


@dataclass(frozen=True)
class RecordedLength:
    """A recorded narration's exact length, for the recording the scene names (`source`, its wire form as JSON)."""

    source: str
    seconds: Fraction


@dataclass(frozen=True)
class SpeechRequest:
    """What `t` does for a scene: speak its `text` with `voice`, or hear its recording (scene `index` of `document`,
    aligned to its transcript, or recognized when it has none)."""

    scene_id: str
    kind: str  # "text" or "recording"
    text: str = ""
    voice: Any = None
    index: int = 0
    document: Document | None = None
    source: str = ""
    has_transcript: bool = False


@dataclass(frozen=True)
class SceneLength:
    """How long a scene lasts and what that is made of, by the renderer's rule (reelforge.document.lengths)."""

    seconds: float  # the scene's length in whole frames: the number the scene list shows
    exact: bool  # the speech's length is known (spoken, recorded, or no speech needed)
    fixed: bool
    speech: float | None  # the narration's seconds (exact or estimated); None without narration
    speech_exact: bool  # the narration's length is known (spoken, found in the cache, or a recording's)
    pause: float  # the padding after the narration (auto scenes)
    transition: float  # the transition into the next scene that an auto scene's length includes
    transition_kind: str

    def describe(self) -> str:
        """One line that adds up, with the number the scene list shows: "4.20 s = speech 3.27 + pause 0.40 +
        crossfade 0.50 into next + 0.03 (whole frames)"; an estimate is marked ~ and given to a tenth, as the list
        gives it."""
        if self.speech is None:
            speech = "no narration"
        else:
            speech = f"speech {self.speech:.2f}" if self.speech_exact else f"speech ~{self.speech:.1f}"
        if self.fixed:
            return f"{self.seconds:.2f} s, fixed ({speech})"
        parts = [speech, f"pause {self.pause:.2f}"]
        if self.transition:
            parts.append(f"{self.transition_kind.replace('_', ' ')} {self.transition:.2f} into next")
        if not self.exact:
            return f"~{self.seconds:.1f} s = " + " + ".join(parts) + " · speech estimated: t speaks it"
        rest = round(self.seconds, 2) - sum(round(part, 2) for part in (self.speech or 0, self.pause, self.transition))
        if rest >= 0.005:
            parts.append(f"{rest:.2f} (whole frames)")
        return f"{self.seconds:.2f} s = " + " + ".join(parts)


@dataclass(frozen=True)
class SceneRow:
    """One line of the scene list."""

    number: int
    scene_id: str
    seconds: float
    exact: bool
    excerpt: str
    visual: str
    speech: str  # fresh, stale, none, speaking, recorded, silent
    has_problem: bool


@dataclass
class EditorState:
    """A project being edited in the editor: every change to the document goes through `apply`, `undo`, `redo`."""

    project: Project
    disk: DiskStamp | None = None
    speech: dict[tuple[str, VoiceKey], Fraction] = field(default_factory=dict)  # (text, voice) -> exact seconds
    spoken: set[str] = field(default_factory=set)  # scenes spoken in this session (a later edit makes them stale)
    recorded: dict[str, RecordedLength] = field(default_factory=dict)
    speaking: set[str] = field(default_factory=set)
    drafts: dict[str, SceneDraft] = field(default_factory=dict)
    draft_errors: dict[str, str] = field(default_factory=dict)
    autosave_revision: int = 0
    edits: int = 0

    # --- opening ----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> "EditorState":
        """Open an existing project file; DocumentError when it is not a valid document."""
        path = Path(path)
        stamp = DiskStamp.of(path)
        return cls(Project.open(path), disk=stamp)

    @classmethod
    def create(cls, path: Path, *, name: str, aspect_ratio: str, voice_id: str) -> "EditorState":
        """A new project with one scene, to be saved at `path` (nothing is written until saved)."""
        document = validate_data({
            "version": "1",
            "name": name,
            "output": {"aspectRatio": aspect_ratio},
            "voice": {"voiceId": voice_id},
            "scenes": [{"id": "intro", "narration": {"text": NEW_SCENE_TEXT}, "visual": {"type": "color", "color": "#101828"}}],
        })
        state = cls(Project.new(document, Path(path)), disk=DiskStamp.of(Path(path)))
        state.autosave_revision = -1  # a new project is unsaved from the start: autosave it too
        return state

    def recover_autosave(self) -> ProjectEvent:
        """Replace the document by the autosave's, as one edit (undo goes back to the file's version)."""
        data = read_json_file(autosave_path(self.path))
        recovered = validate_data(data)
        return self.apply(edit.replace_document(recovered, "recover the autosave"))

    # --- what there is ----------------------------------------------------------------------------------

    @property
    def document(self) -> Document:
        return self.project.document

    @property
    def path(self) -> Path:
        return self.project.path

    @property
    def dirty(self) -> bool:
        return self.project.dirty

    @property
    def assets_dir(self) -> Path:
        return assets_folder(self.document, self.path.parent.resolve())

    @property
    def default_output(self) -> Path:
        """Where a render goes unless the user says otherwise: PROJECT.mp4 beside the project."""
        return self.path.with_suffix(".mp4")

    def scene(self, scene_id: str) -> Scene | None:
        for scene in self.document.scenes:
            if scene.id == scene_id:
                return scene
        return None

    def index_of(self, scene_id: str) -> int:
        return self.document.scene_index(scene_id)

    # --- durations and speech ---------------------------------------------------------------------------

    def voice_key(self) -> VoiceKey:
        voice = self.document.voice
        return (voice.engine, voice.voice_id, voice.speed)

    def spoken_seconds(self, scene: Scene) -> Fraction | None:
        """The exact length of the scene's speech: spoken for its current text and voice, or its recording's."""
        narration = scene.narration
        if narration is None:
            return None
        if narration.audio is not None:
            recorded = self.recorded.get(scene.id)
            return recorded.seconds if recorded is not None and recorded.source == source_key(scene) else None
        return self.speech.get((narration.text or "", self.voice_key()))

    def known_speech(self) -> dict[int, Fraction]:
        """The exact speech lengths known now, by scene index."""
        known = {}
        for index, scene in enumerate(self.document.scenes):
            spoken = self.spoken_seconds(scene)
            if spoken is not None:
                known[index] = spoken
        return known

    def estimates(self) -> list[SceneEstimate]:
        """Every scene's length, by the renderer's rule: exact where its speech is known, estimated elsewhere."""
        return estimate_scenes(self.document, self.known_speech())

    def is_exact(self, scene: Scene) -> bool:
        return scene.duration != "auto" or scene.narration is None or self.spoken_seconds(scene) is not None

    def total_seconds(self) -> tuple[float, bool]:
        """The video's length as the render will make it, and whether it is exact (every narrated 'auto' scene's
        speech known)."""
        document = self.document
        return document_seconds(document, self.known_speech()), all(self.is_exact(scene) for scene in document.scenes)

    def scene_length(self, scene_id: str) -> SceneLength:
        """The scene's length as the list shows it, and what it is made of."""
        index = self.index_of(scene_id)
        scene = self.document.scenes[index]
        last = index == len(self.document.scenes) - 1
        spoken = self.spoken_seconds(scene)
        speech = spoken if spoken is not None else estimated_speech(scene, self.document.voice.speed)
        out = has_transition_out(scene, last)
        return SceneLength(
            seconds=self.estimates()[index].seconds, exact=self.is_exact(scene), fixed=scene.duration != "auto",
            speech=None if speech is None else float(speech), speech_exact=spoken is not None, pause=scene.padding,
            transition=scene.transition.duration if out and scene.transition else 0.0,
            transition_kind=scene.transition.type if out and scene.transition else "cut")

    def speech_state(self, scene: Scene) -> str:
        if scene.id in self.speaking:
            return "speaking"
        if scene.narration is None:
            return "silent"
        if scene.narration.text is None:
            return "recorded"
        if self.spoken_seconds(scene) is not None:
            return "fresh"
        if scene.id in self.spoken:  # spoken (here, or found in the cache) before its narration changed
            return "stale"
        return "none"

    def speech_request(self, scene_id: str) -> SpeechRequest:
        """What `t` does for a scene: speak its text, or hear its recording; EditError when it has no narration."""
        scene = self.scene(scene_id)
        if scene is None or scene.narration is None:
            raise EditError(f"scene {scene_id!r} has no narration: give it text to speak or a recording")
        narration = scene.narration
        if narration.audio is not None:
            return SpeechRequest(scene_id, "recording", index=self.index_of(scene_id), document=self.document,
                                 source=source_key(scene), has_transcript=bool((narration.transcript or "").split()))
        return SpeechRequest(scene_id, "text", text=narration.text or "", voice=self.document.voice)

    def record_speech(self, scene_id: str, text: str, voice: Any, seconds: Fraction) -> None:
        """Remember a speech's length (for any scene that says `text` with `voice`, undo and redo included); when
        it matches the scene's current narration, its TTS is fresh."""
        self.speech[(text, (voice.engine, voice.voice_id, voice.speed))] = seconds
        self.spoken.add(scene_id)
        scene = self.scene(scene_id)
        if scene is not None and self.spoken_seconds(scene) is not None:
            self.project.mark_fresh(tts(scene_id))

    def record_recording(self, scene_id: str, source: str, seconds: Fraction) -> None:
        """Remember a recording's exact length (for the recording `source` names)."""
        self.recorded[scene_id] = RecordedLength(source, seconds)
        scene = self.scene(scene_id)
        if scene is not None and self.spoken_seconds(scene) is not None:
            self.project.mark_fresh(tts(scene_id))

    def unknown_lengths(self) -> tuple[list[tuple[str, str]], bool]:
        """What the cache may know: (scene id, text) of every text narration whose length is not known yet, and
        whether some recording's length is not known yet."""
        texts, recordings = [], False
        for scene in self.document.scenes:
            if scene.narration is None or scene.id in self.speaking or self.spoken_seconds(scene) is not None:
                continue
            if scene.narration.audio is not None:
                recordings = True
            else:
                texts.append((scene.id, scene.narration.text or ""))
        return texts, recordings

    def recording_sources(self) -> dict[int, tuple[str, str]]:
        """Scene index → (scene id, source key) of every recorded narration."""
        return {index: (scene.id, source_key(scene)) for index, scene in enumerate(self.document.scenes)
                if scene.narration is not None and scene.narration.audio is not None}

    # --- the list and the problems ----------------------------------------------------------------------

    def rows(self) -> list[SceneRow]:
        problems = self.problems()
        rows = []
        for index, (scene, estimate) in enumerate(zip(self.document.scenes, self.estimates())):
            words = scene.narration.words_text if scene.narration else ""
            prefix = f"scenes[{index}]"
            has_problem = scene.id in self.draft_errors or any(
                problem.path == prefix or problem.path.startswith((prefix + ".", prefix + "[")) for problem in problems
            )
            rows.append(SceneRow(
                number=index + 1, scene_id=scene.id, seconds=estimate.seconds, exact=self.is_exact(scene),
                excerpt=" ".join(words.split()), visual=visual_label(scene.visual),
                speech=self.speech_state(scene), has_problem=has_problem,
            ))
        return rows

    def problems(self) -> list[Problem]:
        """What validation finds now: the document's checks (missing files...) and form input that is not valid yet."""
        found = list(self.project.problems())
        for scene_id, message in self.draft_errors.items():
            index = next((i for i, scene in enumerate(self.document.scenes) if scene.id == scene_id), None)
            found.append(Problem(f"scenes[{index}]" if index is not None else "", message))
        return found

    # --- changes ------------------------------------------------------------------------------------------

    def apply(self, operation: edit.Edit) -> ProjectEvent:
        """Apply a core edit operation; EditError leaves everything as it was."""
        before = self.project.document
        event = self.project.apply(operation)
        if self.project.document is not before:
            self.edits += 1
        return event

    def undo(self) -> ProjectEvent:
        event = self.project.undo()
        self.edits += 1
        return event

    def redo(self) -> ProjectEvent:
        event = self.project.redo()
        self.edits += 1
        return event

    def update_scene_from_form(self, scene_id: str, draft: SceneDraft, changes: Mapping[str, Any] | None,
                               error: str | None = None) -> ProjectEvent | None:
        """Apply what the form holds for a scene; when it is not valid, keep it as a draft with its error."""
        if error is None and changes is not None:
            try:
                event = self.apply(edit.update_scene(scene_id, changes))
            except EditError as exc:
                error = str(exc)
            else:
                self.drafts.pop(scene_id, None)
                self.draft_errors.pop(scene_id, None)
                return event
        self.drafts[scene_id] = draft
        self.draft_errors[scene_id] = error or "invalid input"
        return None

    def forget_draft(self, scene_id: str) -> None:
        self.drafts.pop(scene_id, None)
        self.draft_errors.pop(scene_id, None)

    def new_scene(self, after_id: str | None) -> tuple[edit.Edit, str]:
        """The edit that adds a scene after `after_id` (at the end when None), and the new scene's id."""
        scene_id = edit.new_scene_id(self.document, "scene")
        index = None if after_id is None else self.index_of(after_id) + 1
        background = self.document.theme.background
        scene = {"id": scene_id, "narration": {"text": NEW_SCENE_TEXT}, "visual": {"type": "color", "color": background}}
        return edit.add_scene(scene, index), scene_id

    def import_asset(self, source: Path) -> str:
        """Copy a file into the assets folder (a free name when taken by another file); its upload name."""
        source = Path(source).expanduser()
        if not source.is_file():
            raise ReelforgeError(f"not a file: {source}")
        folder = self.assets_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / source.name
        number = 2
        while target.exists() and not _same_file(target, source):
            target = folder / f"{source.stem}-{number}{source.suffix}"
            number += 1
        if not target.exists():
            tmp = target.with_name(f".{target.name}.importing")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        return target.name

    # --- saving, autosave and the file on disk ----------------------------------------------------------

    def changed_on_disk(self) -> bool:
        """True when the project file's content differs from what was last read or written here."""
        now = DiskStamp.of(self.path)
        if now is None:
            return False
        if self.disk is None:
            return True
        if (now.size, now.mtime_ns) == (self.disk.size, self.disk.mtime_ns):
            return False
        return now.digest != self.disk.digest

    def save(self, *, overwrite: bool = False) -> ProjectEvent:
        """Save atomically (the previous version kept as .bak); DiskChanged unless `overwrite` when another program changed it."""
        if not overwrite and self.changed_on_disk():
            raise DiskChanged(f"{self.path.name} was changed by another program since it was opened")
        event = self.project.save()
        self.disk = DiskStamp.of(self.path)
        self.remove_autosave()
        return event

    def save_as(self, path: Path) -> ProjectEvent:
        """Save to another file, which becomes the project's file (the old file and its autosave are left as they
        were on disk, the autosave removed)."""
        old_autosave = autosave_path(self.path)
        event = self.project.save(path)
        self.disk = DiskStamp.of(self.path)
        old_autosave.unlink(missing_ok=True)
        self.remove_autosave()
        return event

    def autosave_payload(self) -> tuple[Path, str] | None:
        """The autosave to write now (path and text), or None when there is nothing new since the last one."""
        if not self.dirty or self.autosave_revision == self.edits:
            return None
        self.autosave_revision = self.edits
        return autosave_path(self.path), document_json(self.document)

    @staticmethod
    def write_autosave(target: Path, text: str) -> None:
        """Write an autosave atomically (safe to call from a worker thread)."""
        write_atomic(target, text)

    def remove_autosave(self) -> None:
        autosave_path(self.path).unlink(missing_ok=True)

    # --- rendering --------------------------------------------------------------------------------------

    def document_for_render(self) -> dict:
        """The current document's wire form (unsaved edits included); render it with `base_dir`."""
        return self.document.to_json_dict()

    @property
    def base_dir(self) -> Path:
        """Where the project's relative paths resolve: the project file's folder."""
        return self.path.parent.resolve()

    def scene_preview_document(self, scene_id: str) -> tuple[dict, float]:
        """A one-scene document showing `scene_id` without speech or music (fast to compose), and the time to show."""
        index = self.index_of(scene_id)
        data = self.document_for_render()
        scene = data["scenes"][index]
        seconds = max(self.estimates()[index].seconds, 0.5)
        scene.pop("narration", None)
        scene.pop("transition", None)
        scene["duration"] = round(seconds, 3)
        data["scenes"] = [scene]
        data.pop("music", None)
        data.pop("blocks", None)
        data.pop("duration", None)
        data["captions"] = {"enabled": False}
        return data, seconds * 0.6


def source_key(scene: Scene) -> str:
    """The recording a scene's narration names, as a key: its source's wire form."""
    audio = scene.narration.audio if scene.narration is not None else None
    return json.dumps(audio.to_json_dict(), sort_keys=True) if audio is not None else ""


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.stat().st_size == second.stat().st_size and first.read_bytes() == second.read_bytes()
    except OSError:
        return False


__all__ = [
    "AUDIO_SUFFIXES", "AUTOSAVE_SUFFIX", "DiskChanged", "DiskStamp", "DocumentError", "EditorState", "RecordedLength", "SceneDraft",
    "SceneLength", "SceneRow", "SpeechRequest", "audio_files", "autosave_path", "autosave_to_offer",
    "source_key",
]
