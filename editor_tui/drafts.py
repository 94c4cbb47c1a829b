"""What the scene form holds, as typed, without Textual: `draft_of(scene)` (model → form) and `scene_changes(draft,
scene)` (form → the update_scene changes). A field the user did not change is left as the document wrote it."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

from editor_tui.card_fields import PickError, RawValue, card_wire, raw_values
from reelforge.cards.errors import CardError
from reelforge.cards.registry import CardSpec, get_spec
from reelforge.model import Scene
from reelforge.model.blocks import Fit
from reelforge.model.scene import TextOverlay, TransitionKind
from reelforge.model.text import TITLE_FONT_SIZE, Anchor
from reelforge.model.visuals import Motion

TRANSITIONS: list[str] = list(get_args(TransitionKind))
FITS: list[str] = list(get_args(Fit))
MOTIONS: list[str] = list(get_args(Motion))
ANCHORS: list[str] = list(get_args(Anchor))
Look = Literal["plain", "box", "outline"]
LOOKS: list[str] = list(get_args(Look))
NarrationKind = Literal["text", "recording"]

TITLE_BOX = "#00000066"
OUTLINE_WIDTH = 0.004
"""An outline of about 4 px at 1080 (outline width is a fraction of the frame's shorter side)."""
NEW_OVERLAY: dict[str, Any] = {"text": "Title", "style": {"fontSize": TITLE_FONT_SIZE, "boxColor": TITLE_BOX}}
"""What "add overlay" adds: a title at the top in a dark box, at the title size (reelforge.model.text)."""
ANCHOR_OFFSET = {"top": 12.0, "middle": 0.0, "bottom": -12.0}
"""The vertical nudge (% of the height) an overlay gets by default at each row of anchors: clear of the platform's
top bar, centred, or above the bottom band."""


class FormError(ValueError):
    """What the form holds is not a valid scene yet (e.g. a duration that is not a number)."""


@dataclass(frozen=True)
class OverlayDraft:
    """One text overlay as the form shows it: sizes and offsets in percent."""

    text: str = ""
    anchor: str = "top"
    y: str = "12"  # vertical nudge, % of the frame's height (down is positive)
    size: str = "8"  # line height, % of the frame's shorter side
    color: str = "#ffffff"
    look: str = "box"


@dataclass(frozen=True)
class VisualDraft:
    """The visual's own settings as the form shows them; only the ones of its `kind` apply."""

    kind: str = "color"
    fit: str = "cover"
    motion: str = "zoom_in"
    motion_amount: str = "15"  # % (0.15 zooms by 15%)
    trim_start: str = "0"
    trim_end: str = ""  # empty: the clip's end
    loop: bool = True
    volume: str = "0"  # % of the clip's own sound (0 mutes, 100 as recorded, up to 200)
    color: str = ""
    colors: str = ""
    angle: str = "180"
    background: str = ""  # a card's background; empty: the theme's
    card_kind: str = ""
    card: tuple[tuple[str, RawValue], ...] = ()  # the card's fields, by name, as their widgets hold them


@dataclass(frozen=True)
class SceneDraft:
    """What the scene form holds, as typed: kept while it is not a valid edit so nothing typed is lost."""

    title: str = ""
    narration_kind: str = "text"
    narration: str = ""  # the text spoken, or the recording's transcript
    recording: str = ""  # the recording's file: an upload name from the assets folder (or the path or URL written)
    duration_mode: str = "auto"
    seconds: str = ""
    padding: str = "0.4"
    visual: VisualDraft = VisualDraft()
    overlays: tuple[OverlayDraft, ...] = ()
    transition: str = "cut"
    transition_seconds: str = "0.5"


def card_spec_for(name: str) -> CardSpec | None:
    """The registered card `name`, or None when it is not installed."""
    try:
        return get_spec(name)
    except CardError:
        return None


# --- model → form ----------------------------------------------------------------------------------------


def number_text(value: float, scale: float = 1.0) -> str:
    """A number as the form shows it: 0.4 → "0.4", 0.08 at scale 100 → "8"."""
    return f"{round(value * scale, 6):g}"


def overlay_draft(overlay: TextOverlay) -> OverlayDraft:
    style = overlay.style
    look = "box" if style.box_color else ("outline" if style.outline_width > 0 else "plain")
    return OverlayDraft(text=overlay.text.replace("\n", "\\n"), anchor=overlay.placement.anchor,
                        y=number_text(overlay.placement.y, 100), size=number_text(style.font_size, 100),
                        color=style.color, look=look)


def visual_draft(visual: Any) -> VisualDraft:
    kind = visual.type
    if kind == "video":
        return VisualDraft(kind=kind, fit=visual.fit, trim_start=number_text(visual.trim_start),
                           trim_end="" if visual.trim_end is None else number_text(visual.trim_end), loop=visual.loop,
                           volume=number_text(visual.volume, 100))
    if kind == "image":
        return VisualDraft(kind=kind, fit=visual.fit, motion=visual.motion,
                           motion_amount=number_text(visual.motion_amount, 100))
    if kind == "color":
        return VisualDraft(kind=kind, color=visual.color)
    if kind == "gradient":
        return VisualDraft(kind=kind, colors=" ".join(visual.colors), angle=number_text(visual.angle))
    card = visual.card
    spec = card_spec_for(card.card)
    values = raw_values(spec, card) if spec is not None else {}
    return VisualDraft(kind=kind, background=visual.background or "", card_kind=card.card,
                       card=tuple(values.items()))


def draft_of(scene: Scene) -> SceneDraft:
    """The form's fields for a scene, as text."""
    narration = scene.narration
    recorded = narration is not None and narration.audio is not None
    transition = scene.transition
    return SceneDraft(
        title=scene.title or "",
        narration_kind="recording" if recorded else "text",
        narration=(narration.text or narration.transcript or "") if narration else "",
        recording=narration.audio.value if recorded else "",  # type: ignore[union-attr]
        duration_mode="auto" if scene.duration == "auto" else "fixed",
        seconds="" if scene.duration == "auto" else number_text(float(scene.duration)),
        padding=number_text(scene.padding),
        visual=visual_draft(scene.visual),
        overlays=tuple(overlay_draft(overlay) for overlay in scene.overlays),
        transition=transition.type if transition else "cut",
        transition_seconds=number_text(transition.duration) if transition else "0.5",
    )


def shown_draft(scene: Scene, draft: SceneDraft | None) -> SceneDraft:
    """What the form shows for `scene`: the kept draft, its visual part only while the scene still shows that kind
    of visual (the picker may have replaced it since)."""
    baseline = draft_of(scene)
    if draft is None:
        return baseline
    if draft.visual.kind != baseline.visual.kind or draft.visual.card_kind != baseline.visual.card_kind:
        return replace(draft, visual=baseline.visual)
    return draft


# --- form → model ----------------------------------------------------------------------------------------


def _number(text: str, what: str, unit: str = "a number", scale: float = 1.0) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise FormError(f"{what}: {text.strip()!r} is not {unit}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FormError(f"{what}: {text.strip()!r} is not {unit}")
    return round(value / scale, 9) if scale != 1.0 else value


def _seconds(text: str, what: str) -> float:
    return _number(text, what, "a number of seconds")


def _percent(text: str, what: str) -> float:
    return _number(text, what, "a percentage", scale=100.0)


def _changed(draft: Any, baseline: Any) -> set[str]:
    return {f.name for f in fields(draft) if getattr(draft, f.name) != getattr(baseline, f.name)}


def scene_changes(draft: SceneDraft, scene: Scene) -> dict[str, Any]:
    """The scene fields (wire form, None to remove) that the form's `draft` changes; FormError when one is not valid.
    Fields left as shown are not in the result, so the document keeps them as written."""
    baseline = draft_of(scene)
    changed = _changed(draft, baseline)
    changes: dict[str, Any] = {}
    if "title" in changed:
        changes["title"] = draft.title.strip() or None
    if changed & {"narration_kind", "narration", "recording"}:
        changes["narration"] = _narration(draft, baseline, scene)
    if changed & {"duration_mode", "seconds"}:
        changes["duration"] = _seconds(draft.seconds, "duration") if draft.duration_mode == "fixed" else None
    if "padding" in changed:
        changes["padding"] = _seconds(draft.padding, "pause after the narration")
    if "visual" in changed and draft.visual.kind == baseline.visual.kind:
        changes["visual"] = _visual(draft.visual, baseline.visual, scene.visual.to_json_dict())
    if "overlays" in changed:
        changes["overlays"] = _overlays(draft.overlays, baseline.overlays, scene) or None
    if changed & {"transition", "transition_seconds"}:
        if draft.transition == "cut":
            changes["transition"] = None
        else:
            changes["transition"] = {"type": draft.transition,
                                     "duration": _seconds(draft.transition_seconds, "transition length")}
    return changes


def _narration(draft: SceneDraft, baseline: SceneDraft, scene: Scene) -> dict[str, Any] | None:
    words = draft.narration.strip()
    if draft.narration_kind == "text":
        return {"text": words} if words else None
    recording = draft.recording.strip()
    if not recording:
        raise FormError("narration: pick a recording from the assets folder, or import one")
    if baseline.narration_kind == "recording" and recording == baseline.recording and scene.narration is not None:
        source = scene.narration.audio.to_json_dict()  # type: ignore[union-attr]  # as written: path, URL or name
    else:
        source = {"uploadName": recording}
    narration: dict[str, Any] = {"audio": source}
    if words:
        narration["transcript"] = words
    return narration


def _visual(draft: VisualDraft, baseline: VisualDraft, wire: dict[str, Any]) -> dict[str, Any]:
    changed = _changed(draft, baseline)
    kind = draft.kind
    if "fit" in changed:
        wire["fit"] = draft.fit
    if kind == "video":
        if "trim_start" in changed:
            wire["trimStart"] = _seconds(draft.trim_start or "0", "trim in")
        if "trim_end" in changed:
            if draft.trim_end.strip():
                wire["trimEnd"] = _seconds(draft.trim_end, "trim out")
            else:
                wire.pop("trimEnd", None)
        if "loop" in changed:
            wire["loop"] = draft.loop
        if "volume" in changed:
            wire["volume"] = _percent(draft.volume or "0", "clip volume")
    elif kind == "image":
        if "motion" in changed:
            wire["motion"] = draft.motion
        if "motion_amount" in changed:
            wire["motionAmount"] = _percent(draft.motion_amount, "camera move")
    elif kind == "color":
        if "color" in changed:
            wire["color"] = draft.color.strip()
    elif kind == "gradient":
        if "colors" in changed:
            wire["colors"] = [part for part in re.split(r"[\s,]+", draft.colors.strip()) if part]
        if "angle" in changed:
            wire["angle"] = _number(draft.angle, "angle", "a number of degrees")
    elif kind == "card":
        if "background" in changed:
            if draft.background.strip():
                wire["background"] = draft.background.strip()
            else:
                wire.pop("background", None)
        if "card" in changed:
            wire["card"] = _card(draft)
    return wire


def _card(draft: VisualDraft) -> dict[str, Any]:
    spec = card_spec_for(draft.card_kind)
    if spec is None:
        raise FormError(f"card {draft.card_kind!r} is not installed, so its fields cannot be changed here")
    try:
        return card_wire(spec, dict(draft.card))
    except PickError as error:
        raise FormError(f"card: {error}") from None


def _overlays(drafts: tuple[OverlayDraft, ...], baseline: tuple[OverlayDraft, ...], scene: Scene) -> list[dict]:
    existing = [overlay.to_json_dict() for overlay in scene.overlays]
    result = []
    for index, draft in enumerate(drafts):
        if not draft.text.strip():
            continue
        if index < len(existing):
            wire, shown = existing[index], baseline[index]
        else:
            wire = {**NEW_OVERLAY, "style": dict(NEW_OVERLAY["style"])}
            shown = overlay_draft(TextOverlay.model_validate(wire))
        result.append(_overlay(draft, shown, wire, index + 1))
    return result


def _overlay(draft: OverlayDraft, shown: OverlayDraft, wire: dict[str, Any], number: int) -> dict[str, Any]:
    changed = _changed(draft, shown)
    what = f"overlay {number}"
    wire = dict(wire)
    placement = dict(wire.get("placement") or {})
    style = dict(wire.get("style") or {})
    if "text" in changed:
        wire["text"] = draft.text.strip().replace("\\n", "\n")
    if "anchor" in changed:
        placement["anchor"] = draft.anchor
    if "y" in changed:
        placement["y"] = _percent(draft.y or "0", f"{what} offset")
    if "size" in changed:
        style["fontSize"] = _percent(draft.size, f"{what} size")
    if "color" in changed:
        style["color"] = draft.color.strip()
    if "look" in changed:
        box = style.pop("boxColor", None)
        outline = style.pop("outlineWidth", None)
        if draft.look == "box":
            style["boxColor"] = box or TITLE_BOX
        elif draft.look == "outline":
            style["outlineWidth"] = outline or OUTLINE_WIDTH
    if placement or "placement" in wire:
        wire["placement"] = placement
    if style or "style" in wire:
        wire["style"] = style
    return wire


def anchor_row(anchor: str) -> str:
    """Which row of the frame an anchor sits in: top, middle or bottom."""
    if anchor.startswith("top"):
        return "top"
    return "bottom" if anchor.startswith("bottom") else "middle"


def new_overlay_draft() -> OverlayDraft:
    """The form's fields for an overlay "add overlay" makes."""
    return overlay_draft(TextOverlay.model_validate(NEW_OVERLAY))
