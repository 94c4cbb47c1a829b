"""The selected scene as a form: narration, visual, duration, overlays, transition; mapped to the model in two methods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, TextArea

from editor_tui.state import SceneDraft
from reelforge.model import Scene
from reelforge.model.scene import TransitionKind
from reelforge.model.visuals import visual_label

TRANSITIONS = list(get_args(TransitionKind))


class FormError(ValueError):
    """What the form holds is not a valid scene yet (e.g. a duration that is not a number)."""


def _seconds(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise FormError(f"{what}: {text.strip()!r} is not a number of seconds") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FormError(f"{what}: {text.strip()!r} is not a number of seconds")
    return value


def card_overlay_name(scene: Scene) -> str:
    """The card drawn over the scene's visual, if any: "+ card:stat"."""
    overlay = scene.card_overlay
    return f"+ card:{overlay.card.card}" if overlay is not None else ""


def draft_of(scene: Scene) -> SceneDraft:
    """The form's fields for a scene, as text."""
    narration = scene.narration
    text = (narration.text or narration.transcript or "") if narration else ""
    transition = scene.transition
    return SceneDraft(
        title=scene.title or "",
        narration=text,
        duration_mode="auto" if scene.duration == "auto" else "fixed",
        seconds="" if scene.duration == "auto" else f"{float(scene.duration):g}",
        overlays="\n".join(overlay.text.replace("\n", "\\n") for overlay in scene.overlays),
        transition=transition.type if transition else "cut",
        transition_seconds=f"{transition.duration:g}" if transition else "0.5",
    )


def changes_of(draft: SceneDraft, scene: Scene) -> dict[str, Any]:
    """The scene fields (wire form, None to remove) that the form's `draft` sets; FormError when one is not valid."""
    changes: dict[str, Any] = {"title": draft.title.strip() or None}
    recorded = scene.narration is not None and scene.narration.audio is not None
    if not recorded:
        text = draft.narration.strip()
        changes["narration"] = {"text": text} if text else None
    if draft.duration_mode == "fixed":
        changes["duration"] = _seconds(draft.seconds, "duration")
    else:
        changes["duration"] = None
    existing = [overlay.to_json_dict() for overlay in scene.overlays]
    overlays = []
    for index, line in enumerate(line for line in draft.overlays.splitlines() if line.strip()):
        overlay = dict(existing[index]) if index < len(existing) else {}
        overlay["text"] = line.strip().replace("\\n", "\n")
        overlays.append(overlay)
    changes["overlays"] = overlays or None
    if draft.transition == "cut":
        changes["transition"] = None
    else:
        changes["transition"] = {"type": draft.transition,
                                 "duration": _seconds(draft.transition_seconds, "transition duration")}
    return changes


class SceneForm(VerticalScroll):
    """Shows one scene; `load_scene` fills it, `build_changes` reads it back. It holds no state of record."""

    @dataclass
    class Changed(Message):
        """The user changed a field."""

        form: "SceneForm"

        @property
        def control(self) -> "SceneForm":
            return self.form

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._scene: Scene | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Title (optional)", id="title", compact=True)
        yield Label("Narration", classes="field-label")
        yield TextArea(id="narration", soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
        with Horizontal(classes="field-row"):
            yield Label("Visual", classes="row-label")
            yield Label("", id="visual-name")
            yield Button("Pick (v)", id="pick-visual", compact=True)
        with Horizontal(classes="field-row", id="card-overlay-row"):  # under the visual's name, when there is one
            yield Label("", classes="row-label")
            yield Label("", id="card-overlay-name")
        with Horizontal(classes="field-row"):
            yield Label("Length", classes="row-label")
            yield Select([("auto", "auto"), ("fixed", "fixed")], value="auto", allow_blank=False,
                         id="duration-mode", compact=True)
            yield Input(placeholder="seconds", id="seconds", compact=True)
        yield Label("Overlays (one per line)", classes="field-label")
        yield TextArea(id="overlays", soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
        with Horizontal(classes="field-row"):
            yield Label("Into next", classes="row-label")
            yield Select([(kind, kind) for kind in TRANSITIONS], value="cut", allow_blank=False,
                         id="transition", compact=True)
            yield Input(placeholder="s", id="transition-seconds", compact=True)

    # --- the model ↔ UI mapping ------------------------------------------------------------------------

    def load_scene(self, scene: Scene, draft: SceneDraft | None = None) -> None:
        """Show `scene`, or a draft of it that was not valid yet."""
        self._scene = scene
        shown = draft or draft_of(scene)
        with self.prevent(Input.Changed, TextArea.Changed, Select.Changed):
            self.border_title = f"Scene {scene.id}"
            self.query_one("#title", Input).value = shown.title
            narration = self.query_one("#narration", TextArea)
            if narration.text != shown.narration:
                narration.load_text(shown.narration)
            recorded = scene.narration is not None and scene.narration.audio is not None
            narration.read_only = recorded
            narration.border_subtitle = "recorded: transcript only" if recorded else None
            self.query_one("#visual-name", Label).update(visual_label(scene.visual))
            self.query_one("#card-overlay-name", Label).update(card_overlay_name(scene))
            self.query_one("#card-overlay-row").display = scene.card_overlay is not None
            self.query_one("#duration-mode", Select).value = shown.duration_mode
            seconds = self.query_one("#seconds", Input)
            seconds.value = shown.seconds
            seconds.disabled = shown.duration_mode != "fixed"
            overlays = self.query_one("#overlays", TextArea)
            if overlays.text != shown.overlays:
                overlays.load_text(shown.overlays)
            self.query_one("#transition", Select).value = shown.transition
            transition_seconds = self.query_one("#transition-seconds", Input)
            transition_seconds.value = shown.transition_seconds
            transition_seconds.disabled = shown.transition == "cut"

    def read_draft(self) -> SceneDraft:
        return SceneDraft(
            title=self.query_one("#title", Input).value,
            narration=self.query_one("#narration", TextArea).text,
            duration_mode=str(self.query_one("#duration-mode", Select).value),
            seconds=self.query_one("#seconds", Input).value,
            overlays=self.query_one("#overlays", TextArea).text,
            transition=str(self.query_one("#transition", Select).value),
            transition_seconds=self.query_one("#transition-seconds", Input).value,
        )

    def build_changes(self) -> dict[str, Any]:
        """The scene fields this form sets, in wire form; FormError when a field is not valid."""
        if self._scene is None:
            return {}
        return changes_of(self.read_draft(), self._scene)

    def narration_cursor(self) -> int:
        """The narration cursor as a character offset into its text."""
        narration = self.query_one("#narration", TextArea)
        return narration.document.get_index_from_location(narration.cursor_location)

    # --- events ---------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self.post_message(self.Changed(self))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#seconds", Input).disabled = self.query_one("#duration-mode", Select).value != "fixed"
        self.query_one("#transition-seconds", Input).disabled = self.query_one("#transition", Select).value == "cut"
        if self.query_one("#duration-mode", Select).value == "fixed" and not self.query_one("#seconds", Input).value:
            self.query_one("#seconds", Input).value = "3"
        self._changed()
