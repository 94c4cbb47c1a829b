"""The project being edited: its document, file, undo and redo history, dirty flag and what edits made stale."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, NamedTuple

from reelforge.document.checks import check_document
from reelforge.document.loader import load_document
from reelforge.editing.operations import Edit
from reelforge.errors import EditError, Problem
from reelforge.fileio import WriteError, write_atomic
from reelforge.model import Document, Scene

HISTORY_LIMIT = 500
"""Undo steps kept; the oldest are forgotten first."""


def document_json(document: Document) -> str:
    """The file form of a document: its wire form as JSON, indented by 2, ending with a newline."""
    return json.dumps(document.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


# --- staleness ----------------------------------------------------------------------------------------------

StaleKind = Literal["tts", "scene", "music", "captions", "video"]


class StaleMarker(NamedTuple):
    """Something rendered from the document that an edit made out of date.

    ("tts", id): the scene's speech (synthesized or recorded); ("scene", id): the scene's rendered segment;
    ("music",) and ("captions",): those tracks' settings; ("video",): the finished video.
    """

    kind: StaleKind
    scene_id: str | None = None


def tts(scene_id: str) -> StaleMarker:
    return StaleMarker("tts", scene_id)


def scene_segment(scene_id: str) -> StaleMarker:
    return StaleMarker("scene", scene_id)


MUSIC = StaleMarker("music")
CAPTIONS = StaleMarker("captions")
VIDEO = StaleMarker("video")

# Document fields whose change only makes the finished video stale.
_VIDEO_ONLY_FIELDS = frozenset({"json_schema", "version", "name", "description", "duration", "blocks"})


def stale_markers(old: Document, new: Document) -> frozenset[StaleMarker]:
    """What going from `old` to `new` makes stale, derived by comparing the two (values, not spelling).

    A scene whose narration changed: its TTS. Any change to a scene: its segment. Voice: the TTS of every
    scene with narration text. Music, captions: those tracks. Theme: every segment and the captions. Output,
    the assets folder, or a field this function does not know: everything. A stale TTS also makes its
    segment stale, since an auto duration follows the speech. Any change at all makes the video stale.
    """
    if old == new:
        return frozenset()
    markers: set[StaleMarker] = {VIDEO}
    markers |= _scene_changes(old, new)
    for name in Document.model_fields:
        if name == "scenes" or name in _VIDEO_ONLY_FIELDS or getattr(old, name) == getattr(new, name):
            continue
        if name == "voice":
            markers |= {tts(scene.id) for scene in new.scenes if _has_text(scene)}
        elif name == "language":
            markers |= {tts(scene.id) for scene in new.scenes if _has_text(scene)} | {CAPTIONS}
        elif name == "music":
            markers.add(MUSIC)
        elif name == "captions":
            markers.add(CAPTIONS)
        elif name == "theme":
            markers |= {scene_segment(scene.id) for scene in new.scenes} | {CAPTIONS}
        else:
            markers |= everything(new)
    markers |= {scene_segment(marker.scene_id) for marker in markers if marker.kind == "tts" and marker.scene_id}
    return frozenset(markers)


def everything(document: Document) -> frozenset[StaleMarker]:
    """Every marker `document` can have."""
    markers = {VIDEO, MUSIC, CAPTIONS}
    for scene in document.scenes:
        markers.add(scene_segment(scene.id))
        if scene.narration is not None:
            markers.add(tts(scene.id))
    return frozenset(markers)


def _scene_changes(old: Document, new: Document) -> set[StaleMarker]:
    before = {scene.id: scene for scene in old.scenes}
    markers: set[StaleMarker] = set()
    for scene in new.scenes:
        previous = before.get(scene.id)
        if previous == scene:
            continue
        markers.add(scene_segment(scene.id))
        if previous is None or previous.narration != scene.narration:
            if previous is not None or scene.narration is not None:
                markers.add(tts(scene.id))
    return markers


def _has_text(scene: Scene) -> bool:
    return scene.narration is not None and scene.narration.text is not None


# --- the project --------------------------------------------------------------------------------------------

EventKind = Literal["edit", "undo", "redo", "save", "fresh"]


@dataclass(frozen=True)
class ProjectEvent:
    """What happened to a project, sent to its listeners."""

    kind: EventKind
    label: str
    stale: frozenset[StaleMarker] = frozenset()


Listener = Callable[["Project", ProjectEvent], None]


@dataclass(frozen=True)
class _Step:
    """A document in the history, with its revision number and the label of the edit that leads away from it."""

    document: Document
    revision: int
    label: str


class Project:
    """A document being edited: every change goes through `apply`, `undo` or `redo`.

    The project holds all state of record (editors and APIs keep none): the document, the file it is saved
    to, the undo and redo history, whether it differs from the saved file, and what edits made stale.
    Treat `document` as read-only; mutating it in place would bypass validation, history and staleness.
    """

    def __init__(self, document: Document, path: Path | str, *, warnings: list[Problem] | None = None):
        self._document = document
        self._path = Path(path)
        self._revision = 0
        self._next_revision = 1
        self._saved_revision = 0
        self._undo: deque[_Step] = deque(maxlen=HISTORY_LIMIT)
        self._redo: list[_Step] = []
        self._stale: set[StaleMarker] = set()
        self._listeners: list[Listener] = []
        self.warnings: list[Problem] = list(warnings or [])

    @classmethod
    def open(cls, path: Path | str, *, assets: Path | None = None) -> "Project":
        """Load a project file; DocumentError lists every problem when it is invalid."""
        loaded = load_document(Path(path), assets=assets)
        return cls(loaded.document, Path(path), warnings=loaded.warnings)

    @classmethod
    def new(cls, document: Document, path: Path | str) -> "Project":
        """A project for `document`, to be saved at `path` (nothing is written until `save`); it starts dirty.

        The document goes through its file form, so the project holds exactly what reopening the file gives.
        """
        loaded = load_document(document.to_json_dict())
        project = cls(loaded.document, Path(path), warnings=loaded.warnings)
        project._saved_revision = -1
        return project

    # state

    @property
    def document(self) -> Document:
        return self._document

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dirty(self) -> bool:
        """True when the document differs from the last version saved or opened."""
        return self._revision != self._saved_revision

    @property
    def stale(self) -> frozenset[StaleMarker]:
        """What edits, undos and redos made stale since it was last marked fresh."""
        return frozenset(self._stale)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        """What `undo` would undo, e.g. "split scene 'intro'"; None when there is nothing."""
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    def problems(self, assets: Path | None = None) -> list[Problem]:
        """Warnings about the current document, such as media files that are not there."""
        return check_document(self._document, base_dir=self._path.parent, assets=assets)

    # changes

    def apply(self, edit: Edit) -> ProjectEvent:
        """Apply an edit. An invalid one raises EditError and leaves the project as it was.

        An edit that changes nothing is not recorded: no undo step, no event.
        """
        new = edit.apply(self._document)
        if new.to_json_dict() == self._document.to_json_dict():
            return ProjectEvent("edit", edit.label)
        self._undo.append(_Step(self._document, self._revision, edit.label))
        self._redo.clear()
        return self._move_to(new, self._new_revision(), "edit", edit.label)

    def undo(self) -> ProjectEvent:
        if not self._undo:
            raise EditError("nothing to undo")
        step = self._undo.pop()
        self._redo.append(_Step(self._document, self._revision, step.label))
        return self._move_to(step.document, step.revision, "undo", step.label)

    def redo(self) -> ProjectEvent:
        if not self._redo:
            raise EditError("nothing to redo")
        step = self._redo.pop()
        self._undo.append(_Step(self._document, self._revision, step.label))
        return self._move_to(step.document, step.revision, "redo", step.label)

    def mark_fresh(self, *markers: StaleMarker) -> None:
        """Record that these markers' outputs were made again from the current document."""
        fresh = self._stale & set(markers)
        self._stale -= fresh
        if fresh:
            self._notify(ProjectEvent("fresh", "mark fresh", frozenset(fresh)))

    def save(self, path: Path | str | None = None) -> ProjectEvent:
        """Write the document atomically, to `path` (which becomes the project's file) or to its file.

        The file's previous content is kept beside it as NAME.json.bak.
        """
        target = self._path if path is None else Path(path)
        try:
            write_atomic(target, document_json(self._document), keep_backup=True)
        except WriteError as error:
            raise WriteError(target, error.reason, verb="save", read_only=error.read_only) from None
        self._path = target
        self._saved_revision = self._revision
        event = ProjectEvent("save", f"save {target}")
        self._notify(event)
        return event

    # listeners

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(project, event)` after every change, save and mark_fresh; returns an unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _move_to(self, document: Document, revision: int, kind: EventKind, label: str) -> ProjectEvent:
        markers = stale_markers(self._document, document)
        self._document = document
        self._revision = revision
        self._stale |= markers
        event = ProjectEvent(kind, label, markers)
        self._notify(event)
        return event

    def _new_revision(self) -> int:
        revision = self._next_revision
        self._next_revision += 1
        return revision

    def _notify(self, event: ProjectEvent) -> None:
        for listener in list(self._listeners):
            listener(self, event)
