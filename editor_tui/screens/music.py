"""Background music: a mood preset or a file (importable), its volume and ducking under narration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from reelforge.errors import ReelforgeError
from reelforge.model import Music

AUDIO_SUFFIXES = {".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac"}
MOODS = ("upbeat", "calm", "dramatic", "none")
NO_MUSIC = "off"


@dataclass(frozen=True)
class MusicChoice:
    """The music to set (wire form), or None to remove it."""

    music: dict[str, Any] | None


def audio_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))


def music_wire(source: str, volume: str, ducking: bool, current: Music | None) -> dict[str, Any] | None:
    """The music a choice of source ("off", a mood, or "file:NAME"), volume and ducking makes; ValueError if not valid."""
    if source == NO_MUSIC:
        return None
    try:
        level = float(volume)
    except ValueError:
        raise ValueError(f"volume: {volume!r} is not a number from 0 to 1") from None
    if not 0 <= level <= 1:
        raise ValueError(f"volume: {level:g} is outside 0 to 1")
    wire = current.to_json_dict() if current is not None else {}
    wire.pop("mood", None)
    wire.pop("source", None)
    if source.startswith("file:"):
        wire["source"] = {"uploadName": source.removeprefix("file:")}
    else:
        wire["mood"] = source
    wire["volume"] = level
    wire["ducking"] = ducking
    return wire


class MusicScreen(ModalScreen[MusicChoice | None]):
    """Dismisses with a MusicChoice, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="music.cancel")]

    def __init__(self, current: Music | None, assets: Path, import_file: Callable[[Path], str]) -> None:
        super().__init__()
        self.current = current
        self.assets = assets
        self.import_file = import_file

    def _sources(self) -> list[tuple[str, str]]:
        sources = [("No music", NO_MUSIC)] + [(f"Mood: {mood}", mood) for mood in MOODS]
        return sources + [(f"File: {name}", f"file:{name}") for name in audio_files(self.assets)]

    def _current_source(self) -> str:
        if self.current is None:
            return NO_MUSIC
        if self.current.source is not None:
            return f"file:{self.current.source.value}"
        return self.current.mood or NO_MUSIC

    def compose(self) -> ComposeResult:
        sources = self._sources()
        current = self._current_source()
        if current not in {value for _, value in sources}:
            sources.append((f"File: {current.removeprefix('file:')}", current))
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Music"
            yield Label("Source")
            yield Select(sources, value=current, allow_blank=False, id="music-source")
            yield Input(placeholder="Import a music file: its path, then enter", id="music-import")
            with Horizontal(classes="field-row"):
                yield Label("Volume (0-1)", classes="row-label")
                yield Input(f"{self.current.volume:g}" if self.current else "0.25", id="music-volume", compact=True)
            yield Checkbox("Lower the music under the voice (ducking)", self.current.ducking if self.current else True,
                           id="music-ducking", compact=True, classes="field-check")
            yield Label("", id="music-error")
            with Horizontal(classes="buttons"):
                yield Button("Use it", id="use", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#use")
    @on(Input.Submitted, "#music-volume")
    def use(self) -> None:
        try:
            wire = music_wire(str(self.query_one("#music-source", Select).value),
                              self.query_one("#music-volume", Input).value,
                              self.query_one("#music-ducking", Checkbox).value, self.current)
        except ValueError as exc:
            self.query_one("#music-error", Label).update(str(exc))
            return
        self.dismiss(MusicChoice(wire))

    @on(Input.Submitted, "#music-import")
    def import_music(self, event: Input.Submitted) -> None:
        try:
            name = self.import_file(Path(event.value.strip()))
        except (ReelforgeError, OSError) as exc:
            self.query_one("#music-error", Label).update(str(exc))
            return
        if Path(name).suffix.lower() not in AUDIO_SUFFIXES:
            self.query_one("#music-error", Label).update(f"{name}: not an audio file")
            return
        event.input.value = ""
        select = self.query_one("#music-source", Select)
        select.set_options(self._sources())
        select.value = f"file:{name}"
        self.query_one("#music-error", Label).update(f"imported {name} into {self.assets.name}/")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
