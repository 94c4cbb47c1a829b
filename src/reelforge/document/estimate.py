"""Estimated durations before any TTS runs: a words-per-minute model scaled by the voice speed, laid out by the
same rule as the render (`lengths`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from reelforge.document.lengths import SceneTrack, scene_track, video_frames
from reelforge.model.document import Document
from reelforge.model.scene import Scene
from reelforge.timebase import Number, Rate, to_fraction

# Fitted on the bundled en_US-joe-medium piper voice at speed 1 (see BENCHMARKS.md, "Speech rate"), by
# bench/calibrate_speech_rate.py: seconds = spoken_words * 60 / WORDS_PER_MINUTE + sentence breaks * SENTENCE_PAUSE.
WORDS_PER_MINUTE = 199.0
# Extra seconds a sentence break adds beyond the words themselves.
SENTENCE_PAUSE = 0.23
# Share of the speech that piper's length_scale (1 / speed) stretches; the rest (the shortest phonemes, which
# piper rounds up to whole frames, and the silence around sentences) barely changes with speed.
STRETCHED_SHARE = 0.74

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def spoken_words(text: str) -> int:
    """Words as a voice says them: a number counts one word per digit ('1969' is 'nineteen sixty-nine')."""
    total = 0
    for word in _WORD.findall(text):
        digits = sum(character.isdigit() for character in word)
        total += digits if digits else 1
    return total


def sentence_breaks(text: str) -> int:
    """Pauses between sentences in `text`: sentence ends less the final one."""
    return max(len(_SENTENCE_END.findall(text.strip())) - 1, 0)


def speed_factor(speed: float) -> float:
    """How much longer (> 1) or shorter (< 1) speech lasts at `speed` than at speed 1 (length_scale = 1 / speed)."""
    return STRETCHED_SHARE / speed + (1.0 - STRETCHED_SHARE)


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """Estimated seconds to speak `text` at `speed`."""
    words = spoken_words(text)
    if words == 0:
        return 0.0
    return (words * 60.0 / WORDS_PER_MINUTE + sentence_breaks(text) * SENTENCE_PAUSE) * speed_factor(speed)


@dataclass(frozen=True)
class SceneEstimate:
    scene_id: str
    words: int
    seconds: float  # the scene's length, whole frames at the document's rate (lengths.scene_frames)
    fixed: bool  # True when the scene has a fixed duration rather than an estimate


KnownSpeech = Mapping[int, Number]
"""Exact speech lengths in seconds by scene index (spoken or recorded), used instead of the estimate."""


def estimated_speech(scene: Scene, speed: float) -> Fraction | None:
    """The estimated length of a scene's speech (None when it has no narration)."""
    if scene.narration is None:
        return None
    return to_fraction(speech_seconds(scene.narration.words_text, speed))


def estimated_track(document: Document, known_speech: KnownSpeech | None = None) -> SceneTrack:
    """The scene track (lengths.scene_track) with exact speech where known and estimates elsewhere."""
    known = known_speech or {}
    speeches = [to_fraction(known[index]) if index in known else estimated_speech(scene, document.voice.speed)
                for index, scene in enumerate(document.scenes)]
    return scene_track(document.scenes, speeches, Rate.of(document.output.fps))


def estimate_scenes(document: Document, known_speech: KnownSpeech | None = None) -> list[SceneEstimate]:
    """Each scene's length by the renderer's own rule, from estimated (or, where given, exact) speech."""
    rate = Rate.of(document.output.fps)
    track = estimated_track(document, known_speech)
    return [SceneEstimate(scene.id, count_words(scene.narration.words_text if scene.narration else ""),
                          float(rate.seconds(frames)), scene.duration != "auto")
            for scene, frames in zip(document.scenes, track.frames)]


def scenes_seconds(document: Document, known_speech: KnownSpeech | None = None) -> float:
    """Length of the scene track: scenes laid end to end, less the overlaps of their transitions."""
    return float(Rate.of(document.output.fps).seconds(estimated_track(document, known_speech).end))


def document_seconds(document: Document, known_speech: KnownSpeech | None = None) -> float:
    """Estimated length of the whole video (exact when every narrated scene's speech is known)."""
    rate = Rate.of(document.output.fps)
    return float(rate.seconds(video_frames(document, estimated_track(document, known_speech), rate)))
