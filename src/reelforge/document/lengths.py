"""How long scenes and the whole video last, in frames: the one rule the resolver, the estimate and the editor share.

A scene with a fixed `duration` lasts that long. An "auto" scene lasts its speech, plus its padding, plus the
transition into the next scene: the next scene's narration starts with that transition, so it never talks over
this one. A transition lasts at most one frame less than either scene it joins, and one of under two frames is a
cut. Scenes follow each other overlapping by their transitions; a fixed document `duration` cuts (or extends)
the video, and otherwise the video lasts until the scenes or the last block end, whichever is later.

Callers give each scene's speech length: exact (synthesized or recorded) or estimated (`estimate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from reelforge.model.document import Document
from reelforge.model.scene import Scene
from reelforge.timebase import Rate, to_fraction


def has_transition_out(scene: Scene, last: bool) -> bool:
    """Whether `scene` asks for a transition (not a cut) into a following scene."""
    return not last and scene.transition is not None and scene.transition.type != "cut"


def auto_seconds(scene: Scene, speech_seconds: Fraction | None, last: bool) -> Fraction:
    """The length of an "auto" scene: speech + padding + the transition out."""
    spoken = speech_seconds if speech_seconds is not None else Fraction(0)
    overlap = to_fraction(scene.transition.duration) if has_transition_out(scene, last) else Fraction(0)
    return spoken + to_fraction(scene.padding) + overlap


def scene_frames(scene: Scene, speech_seconds: Fraction | None, rate: Rate, last: bool) -> int:
    """Frames `scene` lasts: its fixed duration, or the "auto" rule rounded up to whole frames (at least one)."""
    if scene.duration != "auto":
        return max(rate.frames(scene.duration), 1)
    return max(rate.frames(auto_seconds(scene, speech_seconds, last), rounding="ceil"), 1)


def transition_frames(scenes: Sequence[Scene], frames: Sequence[int], index: int, rate: Rate) -> int:
    """Frames of the transition from scene `index` into the next: 0 for a cut (or one too short to show)."""
    if not has_transition_out(scenes[index], index + 1 >= len(scenes)):
        return 0
    wanted = rate.frames(scenes[index].transition.duration)  # type: ignore[union-attr]
    shown = min(wanted, frames[index] - 1, frames[index + 1] - 1)
    return shown if shown >= 2 else 0


@dataclass(frozen=True)
class SceneTrack:
    """Where each scene sits: its first frame, its length and its transition out, all in frames."""

    starts: tuple[int, ...]
    frames: tuple[int, ...]
    transitions: tuple[int, ...]

    @property
    def end(self) -> int:
        """The frame after the last scene ends (0 without scenes)."""
        return self.starts[-1] + self.frames[-1] if self.frames else 0


def scene_track(scenes: Sequence[Scene], speech_seconds: Sequence[Fraction | None], rate: Rate) -> SceneTrack:
    """The scenes laid end to end, overlapping by their transitions, given each one's speech length."""
    count = len(scenes)
    return lay_out(scenes, [scene_frames(scene, speech, rate, index == count - 1)
                            for index, (scene, speech) in enumerate(zip(scenes, speech_seconds))], rate)


def lay_out(scenes: Sequence[Scene], frames: Sequence[int], rate: Rate) -> SceneTrack:
    """Scenes of known lengths laid end to end, overlapping by their transitions."""
    transitions = [transition_frames(scenes, frames, index, rate) for index in range(len(scenes))]
    starts, at = [], 0
    for length, overlap in zip(frames, transitions):
        starts.append(at)
        at += length - overlap
    return SceneTrack(tuple(starts), tuple(frames), tuple(transitions))


def video_frames(document: Document, track: SceneTrack, rate: Rate) -> int:
    """Frames the whole video lasts: the fixed document duration, else the later of the scenes' and blocks' ends."""
    if document.duration is not None:
        return rate.frames(document.duration)
    blocks_end = max((rate.frames(block.end) for block in document.blocks), default=0)
    return max(track.end, blocks_end)
