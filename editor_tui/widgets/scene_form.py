"""The selected scene as a form: every field a scene holds (narration as text or a recording, the visual's own settings,
its length, overlays, the transition); `load_scene` and `build_changes` map it to and from the model."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from editor_tui.drafts import (
    ANCHOR_OFFSET,
    ANCHORS,
    FITS,
    LOOKS,
    MOTIONS,
    TRANSITIONS,
    FormError,
    OverlayDraft,
    SceneDraft,
    VisualDraft,
    anchor_row,
    card_spec_for,
    new_overlay_draft,
    number_text,
    scene_changes,
    shown_draft,
)
from editor_tui.widgets.card_form import CardForm
from reelforge.model import Scene
from reelforge.model.visuals import visual_label

MAX_OVERLAYS = 10  # a scene holds at most 10 overlays (reelforge.model.scene.Scene.overlays)
NARRATION_KINDS = [("spoken text", "text"), ("recording", "recording")]

__all__ = ["FormError", "OverlayFields", "SceneForm", "card_overlay_name"]


def card_overlay_name(scene: Scene) -> str:
    """The card drawn over the scene's visual, if any: "+ card:stat"."""
    overlay = scene.card_overlay
    return f"+ card:{overlay.card.card}" if overlay is not None else ""


def _row(label: str, *children, row_id: str | None = None) -> Horizontal:
    return Horizontal(Label(label, classes="row-label"), *children, classes="field-row", id=row_id)


class OverlayFields(Vertical):
    """The fields of one text overlay: its text, where it sits, its size, color and look."""

    def __init__(self, number: int, draft: OverlayDraft, **kwargs) -> None:
        super().__init__(classes="overlay", **kwargs)
        self.number = number
        self.shown_anchor = draft.anchor
        self.initial = draft  # shown once composed (groups are mounted when a scene first needs them)

    def on_mount(self) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            self.load(self.initial)

    def field_id(self, part: str) -> str:
        return f"overlay-{self.number}-{part}"

    def compose(self) -> ComposeResult:
        yield _row(f"{self.number}", Input(placeholder="text (\\n breaks a line)", id=self.field_id("text"), compact=True),
                   Button("✕", id=self.field_id("remove"), compact=True, tooltip="Remove this overlay"))
        yield _row("  at", Select([(anchor.replace("_", " "), anchor) for anchor in ANCHORS], value="top",
                                  allow_blank=False, id=self.field_id("anchor"), compact=True),
                   Label(" y%", classes="unit"), Input(id=self.field_id("y"), compact=True, classes="number"))
        yield _row("  size%", Input(id=self.field_id("size"), compact=True, classes="number"),
                   Input(id=self.field_id("color"), placeholder="#ffffff", compact=True, classes="color"),
                   Select([(look, look) for look in LOOKS], value="box", allow_blank=False, id=self.field_id("look"),
                          compact=True))

    def load(self, draft: OverlayDraft) -> None:
        self.initial = draft
        if not self.children:  # not composed yet: on_mount shows it
            return
        self.shown_anchor = draft.anchor
        self.query_one(f"#{self.field_id('text')}", Input).value = draft.text
        self.query_one(f"#{self.field_id('anchor')}", Select).value = draft.anchor
        self.query_one(f"#{self.field_id('y')}", Input).value = draft.y
        self.query_one(f"#{self.field_id('size')}", Input).value = draft.size
        self.query_one(f"#{self.field_id('color')}", Input).value = draft.color
        self.query_one(f"#{self.field_id('look')}", Select).value = draft.look

    def read(self) -> OverlayDraft:
        if not self.children:
            return self.initial
        return OverlayDraft(
            text=self.query_one(f"#{self.field_id('text')}", Input).value,
            anchor=str(self.query_one(f"#{self.field_id('anchor')}", Select).value),
            y=self.query_one(f"#{self.field_id('y')}", Input).value,
            size=self.query_one(f"#{self.field_id('size')}", Input).value,
            color=self.query_one(f"#{self.field_id('color')}", Input).value,
            look=str(self.query_one(f"#{self.field_id('look')}", Select).value),
        )

    @on(Select.Changed)
    def _anchor_changed(self, event: Select.Changed) -> None:
        """A new row of anchors moves the vertical nudge to that row's default, unless the user typed their own."""
        if event.select.id != self.field_id("anchor"):
            return
        offset = self.query_one(f"#{self.field_id('y')}", Input)
        old, new = anchor_row(self.shown_anchor), anchor_row(str(event.value))
        if old != new and offset.value.strip() == number_text(ANCHOR_OFFSET[old]):
            offset.value = number_text(ANCHOR_OFFSET[new])
        self.shown_anchor = str(event.value)


class SceneForm(VerticalScroll):
    """Shows one scene; `load_scene` fills it, `build_changes` reads it back. It holds no state of record: what it
    shows comes from the document or from the draft the state keeps."""

    # In the form, typing takes the letters: these chords do what the letters do on the scene list.
    BINDINGS = [
        Binding("ctrl+t", "screen.speak", "Speech", tooltip="Speak the text again, or align the recording",
                id="editor.form.speak"),
        Binding("ctrl+l", "screen.split_scene", "Split", tooltip="Split the narration at the sentence nearest the cursor",
                id="editor.form.split_scene"),
        Binding("ctrl+o", "screen.pick_visual", "Visual", tooltip="Pick the scene's visual", id="editor.form.pick_visual"),
        Binding("ctrl+g", "screen.preview", "Preview", tooltip="Preview the scene as a still frame",
                id="editor.form.preview"),
        Binding("ctrl+n", "screen.add_scene", "Add", tooltip="Add a scene after this one", id="editor.form.add_scene",
                show=False),
        Binding("escape", "screen.focus_list", "Scenes", tooltip="Back to the scene list", id="editor.form.focus_list"),
        # Before the text fields' own undo (priority): one history, the editor's, in the form too.
        Binding("ctrl+z", "screen.undo", "Undo", tooltip="Undo the last edit", id="editor.form.undo", priority=True),
    ]

    @dataclass
    class Changed(Message):
        """The user changed a field."""

        form: "SceneForm"

        @property
        def control(self) -> "SceneForm":
            return self.form

    @dataclass
    class ImportRecording(Message):
        """The user asked to import a recording into the assets folder (its path)."""

        form: "SceneForm"
        path: Path

        @property
        def control(self) -> "SceneForm":
            return self.form

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._scene: Scene | None = None
        self._shown = SceneDraft()

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Title (optional)", id="title", compact=True)
        yield _row("Narration", Select(NARRATION_KINDS, value="text", allow_blank=False, id="narration-kind",
                                       compact=True))
        with Vertical(id="recording-fields"):
            yield _row("File", Select([], prompt="pick a recording", id="recording", compact=True))
            yield _row("Import", Input(placeholder="a recording's path, then enter", id="recording-import",
                                       compact=True))
        yield TextArea(id="narration", soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
        yield _row("Length", Select([("auto", "auto"), ("fixed", "fixed")], value="auto", allow_blank=False,
                                    id="duration-mode", compact=True),
                   Input(placeholder="seconds", id="seconds", compact=True, classes="number"))
        yield _row("Pause", Input(id="padding", compact=True, classes="number"), Label(" s after the words"),
                   row_id="padding-row")
        yield Label("", id="length-note")
        yield _row("Visual", Label("", id="visual-name"), Button("Pick", id="pick-visual", compact=True))
        yield _row("", Label("", id="card-overlay-name"), row_id="card-overlay-row")
        yield from self._compose_visual_settings()
        yield _row("Into next", Select([(kind.replace("_", " "), kind) for kind in TRANSITIONS], value="cut",
                                       allow_blank=False, id="transition", compact=True),
                   Input(placeholder="s", id="transition-seconds", compact=True, classes="number"))
        yield _row("Overlays", Button("+ Add", id="add-overlay", compact=True))
        yield Vertical(id="overlays")

    def _compose_visual_settings(self) -> ComposeResult:
        with Vertical(id="visual-video", classes="visual-settings"):
            yield _row("Fit", Select([(fit, fit) for fit in FITS], value="cover", allow_blank=False, id="video-fit",
                                     compact=True),
                       Checkbox("loop", True, id="video-loop", compact=True))
            yield _row("Trim", Input(id="trim-start", compact=True, classes="number"), Label(" to "),
                       Input(placeholder="end", id="trim-end", compact=True, classes="number"), Label(" s"))
            yield _row("Volume", Input(id="video-volume", compact=True, classes="number"), Label(" % (0 mutes)"))
        with Vertical(id="visual-image", classes="visual-settings"):
            yield _row("Fit", Select([(fit, fit) for fit in FITS], value="cover", allow_blank=False, id="image-fit",
                                     compact=True))
            yield _row("Camera", Select([(motion.replace("_", " "), motion) for motion in MOTIONS], value="zoom_in",
                                        allow_blank=False, id="motion", compact=True),
                       Input(id="motion-amount", compact=True, classes="number"), Label(" %"))
        with Vertical(id="visual-color", classes="visual-settings"):
            yield _row("Color", Input(id="color", placeholder="#rrggbb", compact=True, classes="color"))
        with Vertical(id="visual-gradient", classes="visual-settings"):
            yield _row("Colors", Input(id="gradient-colors", placeholder="#1363df #06283d", compact=True))
            yield _row("Angle", Input(id="gradient-angle", compact=True, classes="number"),
                       Label(" ° (0 up, 90 right)"))
        with Vertical(id="visual-card", classes="visual-settings"):
            yield _row("Backdrop", Input(id="card-background", placeholder="theme's", compact=True,
                                           classes="color"))
            yield Vertical(id="card-fields")

    # --- the model ↔ UI mapping ------------------------------------------------------------------------

    def load_scene(self, scene: Scene, draft: SceneDraft | None = None, *, recordings: list[str] = ()) -> None:
        """Show `scene`, or a draft of it that was not valid yet; `recordings` are the assets folder's audio files."""
        self._scene = scene
        shown = self._shown = shown_draft(scene, draft)
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed, Checkbox.Changed):
            self.border_title = f"Scene {scene.id}"
            self.query_one("#title", Input).value = shown.title
            self._load_narration(shown, recordings)
            self.query_one("#duration-mode", Select).value = shown.duration_mode
            self.query_one("#seconds", Input).value = shown.seconds
            self.query_one("#padding", Input).value = shown.padding
            self.query_one("#visual-name", Label).update(visual_label(scene.visual))
            self.query_one("#card-overlay-name", Label).update(card_overlay_name(scene))
            self.query_one("#card-overlay-row").display = scene.card_overlay is not None
            self._load_visual(shown.visual)
            self.query_one("#transition", Select).value = shown.transition
            self.query_one("#transition-seconds", Input).value = shown.transition_seconds
            self._load_overlays(shown.overlays)
            self._show_enabled()

    def build_changes(self) -> dict[str, Any]:
        """The scene fields this form changes, in wire form; FormError when a field is not valid."""
        if self._scene is None:
            return {}
        return scene_changes(self.read_draft(), self._scene)

    def read_draft(self) -> SceneDraft:
        recording = self.query_one("#recording", Select)
        return SceneDraft(
            title=self.query_one("#title", Input).value,
            narration_kind=str(self.query_one("#narration-kind", Select).value),
            narration=self.query_one("#narration", TextArea).text,
            recording="" if recording.is_blank() else str(recording.value),
            duration_mode=str(self.query_one("#duration-mode", Select).value),
            seconds=self.query_one("#seconds", Input).value,
            padding=self.query_one("#padding", Input).value,
            visual=self._read_visual(),
            overlays=tuple(group.read() for group in self.query(OverlayFields) if group.display),
            transition=str(self.query_one("#transition", Select).value),
            transition_seconds=self.query_one("#transition-seconds", Input).value,
        )

    def _load_narration(self, shown: SceneDraft, recordings: list[str]) -> None:
        self.query_one("#narration-kind", Select).value = shown.narration_kind
        self.show_recordings(recordings, shown.recording)
        narration = self.query_one("#narration", TextArea)
        if narration.text != shown.narration:
            narration.load_text(shown.narration)

    def show_recordings(self, recordings: list[str], chosen: str | None = None) -> None:
        """Offer `recordings` (and the scene's own, if elsewhere) in the recording select; select `chosen`."""
        select = self.query_one("#recording", Select)
        current = chosen if chosen is not None else ("" if select.is_blank() else str(select.value))
        names = list(recordings)
        if current and current not in names:
            names.insert(0, current)
        with self.prevent(Select.Changed):
            select.set_options([(name, name) for name in names])
            select.value = current if current else Select.NULL

    def _load_visual(self, visual: VisualDraft) -> None:
        for kind in ("video", "image", "color", "gradient", "card"):
            self.query_one(f"#visual-{kind}").display = visual.kind == kind
        if visual.kind == "video":
            self.query_one("#video-fit", Select).value = visual.fit
            self.query_one("#video-loop", Checkbox).value = visual.loop
            self.query_one("#trim-start", Input).value = visual.trim_start
            self.query_one("#trim-end", Input).value = visual.trim_end
            self.query_one("#video-volume", Input).value = visual.volume
        elif visual.kind == "image":
            self.query_one("#image-fit", Select).value = visual.fit
            self.query_one("#motion", Select).value = visual.motion
            self.query_one("#motion-amount", Input).value = visual.motion_amount
        elif visual.kind == "color":
            self.query_one("#color", Input).value = visual.color
        elif visual.kind == "gradient":
            self.query_one("#gradient-colors", Input).value = visual.colors
            self.query_one("#gradient-angle", Input).value = visual.angle
        elif visual.kind == "card":
            self.query_one("#card-background", Input).value = visual.background
            self._load_card(visual.card_kind, dict(visual.card))

    def _load_card(self, kind: str, values: dict) -> None:
        """The card's own form, in place: the one shown is reused for a card of the same kind."""
        holder = self.query_one("#card-fields")
        existing = self._card_form()
        if existing is not None and existing.spec.name == kind:
            if existing.is_mounted and existing.children:
                existing.load_values(values)
            else:
                existing.initial_values = values
            return
        holder.remove_children()
        spec = card_spec_for(kind)
        if spec is None:
            holder.mount(Label(f"card {kind!r} is not installed: its fields cannot be shown"))
            return
        holder.mount(CardForm(spec, values=values))

    def _card_form(self) -> CardForm | None:
        """The card form shown (the newest, while an older one is being removed)."""
        forms = self.query_one("#card-fields").query(CardForm)
        return forms.last() if forms else None

    def _read_visual(self) -> VisualDraft:
        shown = self._shown.visual
        kind = shown.kind
        if kind == "video":
            return replace(shown, fit=str(self.query_one("#video-fit", Select).value),
                           loop=self.query_one("#video-loop", Checkbox).value,
                           trim_start=self.query_one("#trim-start", Input).value,
                           trim_end=self.query_one("#trim-end", Input).value,
                           volume=self.query_one("#video-volume", Input).value)
        if kind == "image":
            return replace(shown, fit=str(self.query_one("#image-fit", Select).value),
                           motion=str(self.query_one("#motion", Select).value),
                           motion_amount=self.query_one("#motion-amount", Input).value)
        if kind == "color":
            return replace(shown, color=self.query_one("#color", Input).value)
        if kind == "gradient":
            return replace(shown, colors=self.query_one("#gradient-colors", Input).value,
                           angle=self.query_one("#gradient-angle", Input).value)
        card = self._card_form()
        values = shown.card
        if card is not None and card.spec.name == shown.card_kind and card.is_mounted and card.children:
            values = tuple(card.read_values().items())
        return replace(shown, background=self.query_one("#card-background", Input).value, card=values)

    def _load_overlays(self, overlays: tuple[OverlayDraft, ...]) -> None:
        """One group of fields per overlay: those there are reused, more are mounted, the rest hidden."""
        groups = list(self.query(OverlayFields))
        for number, group in enumerate(groups, start=1):
            group.display = number <= len(overlays)
            if number <= len(overlays):
                group.load(overlays[number - 1])
        holder = self.query_one("#overlays")
        for number in range(len(groups) + 1, len(overlays) + 1):
            holder.mount(OverlayFields(number, overlays[number - 1], id=f"overlay-{number}"))
        self.query_one("#add-overlay", Button).disabled = len(overlays) >= MAX_OVERLAYS

    # --- what the form shows besides the fields ----------------------------------------------------------

    def show_length(self, text: str) -> None:
        """The scene's length and what it is made of (the state says)."""
        self.query_one("#length-note", Label).update(text)

    def narration_cursor(self) -> int:
        """The narration cursor as a character offset into its text."""
        narration = self.query_one("#narration", TextArea)
        return narration.document.get_index_from_location(narration.cursor_location)

    def _show_enabled(self) -> None:
        """Fields that do not apply are hidden or disabled: seconds for auto, pause for fixed, the transition's
        length for a cut, the recording's file for text."""
        fixed = self.query_one("#duration-mode", Select).value == "fixed"
        self.query_one("#seconds", Input).disabled = not fixed
        self.query_one("#padding-row").display = not fixed
        self.query_one("#transition-seconds", Input).disabled = self.query_one("#transition", Select).value == "cut"
        recorded = self.query_one("#narration-kind", Select).value == "recording"
        self.query_one("#recording-fields").display = recorded
        narration = self.query_one("#narration", TextArea)
        narration.border_title = "transcript: the words said (empty: recognized)" if recorded else None

    # --- events ---------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.post_message(self.Changed(self))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "recording-import":
            return
        self._changed()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "duration-mode" and event.value == "fixed" and not self.query_one("#seconds", Input).value:
            self.query_one("#seconds", Input).value = "3"
        self._show_enabled()
        self._changed()

    @on(Input.Submitted, "#recording-import")
    def _import_recording(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.ImportRecording(self, Path(event.value.strip()).expanduser()))

    @on(Button.Pressed, "#add-overlay")
    def _add_overlay(self, event: Button.Pressed) -> None:
        event.stop()
        overlays = self.read_draft().overlays
        if len(overlays) >= MAX_OVERLAYS:
            return
        with self.prevent(Input.Changed, Select.Changed):
            self._load_overlays(overlays + (new_overlay_draft(),))
        self.call_after_refresh(self._focus_overlay, len(overlays) + 1)
        self._changed()

    def _focus_overlay(self, number: int) -> None:
        fields = self.query(f"#overlay-{number}-text")
        if fields:
            fields.first().focus()

    @on(Button.Pressed, ".overlay Button")
    def _remove_overlay(self, event: Button.Pressed) -> None:
        event.stop()
        number = int(str(event.button.id).split("-")[1])
        overlays = list(self.read_draft().overlays)
        del overlays[number - 1]
        with self.prevent(Input.Changed, Select.Changed):
            self._load_overlays(tuple(overlays))
        self._changed()
