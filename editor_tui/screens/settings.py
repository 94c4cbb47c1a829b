"""The document's settings in one screen: captions (on or off, style, position, words a line), music (a mood or a file,
volume, ducking), voice (which, how fast) and output (aspect, resolution, quality, frame rate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, get_args

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from editor_tui.screens.render import QUALITY_NAMES
from editor_tui.state import AUDIO_SUFFIXES, audio_files
from reelforge import edit
from reelforge.errors import ReelforgeError
from reelforge.model import Document, Music
from reelforge.model.captions import CaptionPosition, CaptionStyle
from reelforge.model.output import AspectRatio, Quality, Resolution

STYLE_NAMES = {"bold_pop": "bold pop (3 words, big)", "minimal_white": "minimal white (4 words)",
               "karaoke_neon": "karaoke neon (2 words, highlighted)"}
MOODS = ("upbeat", "calm", "dramatic", "none")
NO_MUSIC = "off"
SECTIONS = ("captions", "music", "voice", "output")


@dataclass(frozen=True)
class SettingsChoice:
    """The edits the settings screen asks for (only the sections that changed), made as one undo step."""

    edits: tuple[edit.Edit, ...]

    def as_edit(self) -> edit.Edit | None:
        if not self.edits:
            return None
        if len(self.edits) == 1:
            return self.edits[0]
        return edit.combined("change the settings", self.edits)


def _whole(text: str, what: str, low: int, high: int) -> int | None:
    if not text.strip():
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what}: {text.strip()!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{what}: {value} is outside {low} to {high}")
    return value


def _number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what}: {text.strip()!r} is not a number from {low:g} to {high:g}") from None
    if not low <= value <= high:
        raise ValueError(f"{what}: {value:g} is outside {low:g} to {high:g}")
    return value


def captions_changes(enabled: bool, style: str, position: str, words: str) -> dict[str, Any]:
    """The caption settings as set_captions takes them; ValueError when words a line is not 1 to 12."""
    return {"enabled": enabled, "style": style, "position": position,
            "words_per_line": _whole(words, "words a line", 1, 12)}


def music_wire(source: str, volume: str, ducking: bool, current: Music | None) -> dict[str, Any] | None:
    """The music a choice of source ("off", a mood, or "file:NAME"), volume and ducking makes; ValueError if not valid.
    What the current music sets besides (fades, duck amount) is kept."""
    if source == NO_MUSIC:
        return None
    level = _number(volume, "music volume", 0, 1)
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


def settings_edits(document: Document, *, captions: dict[str, Any], music: dict[str, Any] | None,
                   voice: dict[str, Any], output: dict[str, Any]) -> tuple[edit.Edit, ...]:
    """The edits that take the document to these settings, one per section that changes."""
    edits = []
    current = document.captions
    if any(getattr(current, name) != value for name, value in captions.items()):
        edits.append(edit.set_captions(captions))
    old_music = document.music.to_json_dict() if document.music is not None else None
    if music != old_music and not (music is not None and old_music is not None
                                   and Music.model_validate(music) == document.music):
        edits.append(edit.set_music(music))
    if any(getattr(document.voice, name) != value for name, value in voice.items()):
        edits.append(edit.set_voice(voice))
    if any(getattr(document.output, name) != value for name, value in output.items()):
        edits.append(edit.set_output(output))
    return tuple(edits)


def _row(label: str, *children) -> Horizontal:
    return Horizontal(Label(label, classes="row-label"), *children, classes="field-row")


class SettingsScreen(ModalScreen[SettingsChoice | None]):
    """Dismisses with the SettingsChoice to apply, or None when cancelled; opens at `section`."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="settings.cancel"),
                Binding("ctrl+s", "use", "Use it", id="settings.use")]

    def __init__(self, document: Document, assets: Path, import_file: Callable[[Path], str], voices: list[str],
                 *, section: str = "captions") -> None:
        super().__init__()
        self.document = document
        self.assets = assets
        self.import_file = import_file
        self.voices = voices
        self.section = section if section in SECTIONS else "captions"

    # --- composing ------------------------------------------------------------------------------------

    def _music_sources(self) -> list[tuple[str, str]]:
        sources = [("No music", NO_MUSIC)] + [(f"Mood: {mood}", mood) for mood in MOODS]
        sources += [(f"File: {name}", f"file:{name}") for name in audio_files(self.assets)]
        current = self._current_music_source()
        if current not in {value for _, value in sources}:
            sources.append((f"File: {current.removeprefix('file:')}", current))
        return sources

    def _current_music_source(self) -> str:
        music = self.document.music
        if music is None:
            return NO_MUSIC
        if music.source is not None:
            return f"file:{music.source.value}"
        return music.mood or NO_MUSIC

    def compose(self) -> ComposeResult:
        document = self.document
        captions, music, voice, output = document.captions, document.music, document.voice, document.output
        voices = list(dict.fromkeys([voice.voice_id, *self.voices]))
        with Vertical(classes="dialog wide settings") as dialog:
            dialog.border_title = "Settings"
            with VerticalScroll(id="settings-body"):
                yield Label("Captions", classes="section-title", id="section-captions")
                yield Checkbox("Show captions", captions.enabled, id="captions-enabled", compact=True)
                yield _row("Style", Select([(STYLE_NAMES[s], s) for s in get_args(CaptionStyle)], value=captions.style,
                                           allow_blank=False, id="captions-style", compact=True))
                yield _row("Position", Select([(p, p) for p in get_args(CaptionPosition)], value=captions.position,
                                              allow_blank=False, id="captions-position", compact=True))
                yield _row("Words a line", Input(str(captions.words_per_line or ""), placeholder="style's",
                                                 id="captions-words", compact=True))
                yield Label("Music", classes="section-title", id="section-music")
                yield _row("Source", Select(self._music_sources(), value=self._current_music_source(),
                                            allow_blank=False, id="music-source", compact=True))
                yield _row("Import", Input(placeholder="a music file's path, then enter", id="music-import",
                                           compact=True))
                yield _row("Volume", Input(f"{music.volume:g}" if music else "0.25", id="music-volume", compact=True),
                           Label(" 0 to 1"))
                yield Checkbox("Lower the music under the voice (ducking)", music.ducking if music else True,
                               id="music-ducking", compact=True)
                yield Label("Voice", classes="section-title", id="section-voice")
                yield _row("Voice", Select([(name, name) for name in voices], value=voice.voice_id, allow_blank=False,
                                           id="voice-id", compact=True))
                yield _row("Speed", Input(f"{voice.speed:g}", id="voice-speed", compact=True),
                           Label(" 0.5 to 2 (1 normal)"))
                yield Label("Output", classes="section-title", id="section-output")
                yield _row("Aspect", Select([(a, a) for a in get_args(AspectRatio)], value=output.aspect_ratio,
                                            allow_blank=False, id="output-aspect", compact=True))
                yield _row("Resolution", Select([(r, r) for r in get_args(Resolution)], value=output.resolution,
                                                allow_blank=False, id="output-resolution", compact=True))
                yield _row("Quality", Select([(QUALITY_NAMES[q], q) for q in get_args(Quality)], value=output.quality,
                                             allow_blank=False, id="output-quality", compact=True))
                yield _row("Frames/s", Input(str(output.fps), id="output-fps", compact=True), Label(" 12 to 60"))
            yield Label("", id="settings-error")
            with Horizontal(classes="buttons"):
                yield Button("Use it (^s)", id="use", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        first = {"captions": "#captions-enabled", "music": "#music-source", "voice": "#voice-id",
                 "output": "#output-aspect"}[self.section]
        self.query_one(first).focus()
        self.call_after_refresh(self._scroll_to_section)

    def _scroll_to_section(self) -> None:
        title = self.query_one(f"#section-{self.section}")
        self.query_one("#settings-body", VerticalScroll).scroll_to_widget(title, top=True, animate=False)

    # --- the model ↔ UI mapping ------------------------------------------------------------------------

    def build_choice(self) -> SettingsChoice:
        """The edits the fields ask for; ValueError naming the field when one is not valid."""
        captions = captions_changes(self.query_one("#captions-enabled", Checkbox).value,
                                    str(self.query_one("#captions-style", Select).value),
                                    str(self.query_one("#captions-position", Select).value),
                                    self.query_one("#captions-words", Input).value)
        music = music_wire(str(self.query_one("#music-source", Select).value),
                           self.query_one("#music-volume", Input).value,
                           self.query_one("#music-ducking", Checkbox).value, self.document.music)
        voice = {"voice_id": str(self.query_one("#voice-id", Select).value),
                 "speed": _number(self.query_one("#voice-speed", Input).value, "voice speed", 0.5, 2.0)}
        fps = _whole(self.query_one("#output-fps", Input).value, "frames per second", 12, 60)
        output = {"aspect_ratio": str(self.query_one("#output-aspect", Select).value),
                  "resolution": str(self.query_one("#output-resolution", Select).value),
                  "quality": str(self.query_one("#output-quality", Select).value),
                  "fps": fps if fps is not None else self.document.output.fps}
        return SettingsChoice(settings_edits(self.document, captions=captions, music=music, voice=voice,
                                             output=output))

    # --- events ---------------------------------------------------------------------------------------

    @on(Button.Pressed, "#use")
    @on(Input.Submitted, "#captions-words,#music-volume,#voice-speed,#output-fps")
    def action_use(self) -> None:
        try:
            choice = self.build_choice()
        except ValueError as exc:
            self.query_one("#settings-error", Label).update(str(exc))
            return
        self.dismiss(choice)

    @on(Input.Submitted, "#music-import")
    def import_music(self, event: Input.Submitted) -> None:
        error = self.query_one("#settings-error", Label)
        if not event.value.strip():
            return
        try:
            name = self.import_file(Path(event.value.strip()).expanduser())
        except (ReelforgeError, OSError) as exc:
            error.update(str(exc))
            return
        if Path(name).suffix.lower() not in AUDIO_SUFFIXES:
            error.update(f"{name}: not an audio file ({', '.join(sorted(AUDIO_SUFFIXES))})")
            return
        event.input.value = ""
        select = self.query_one("#music-source", Select)
        select.set_options(self._music_sources())
        select.value = f"file:{name}"
        error.update(f"imported {name} into {self.assets.name}/")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
