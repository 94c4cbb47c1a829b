"""Estimated durations before any TTS runs: a words-per-minute model scaled by the voice speed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelforge.model.document import Document
from reelforge.model.scene import Scene

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
    seconds: float
    fixed: bool  # True when the scene has a fixed duration rather than an estimate


def estimate_scene(scene: Scene, speed: float, last: bool = True) -> SceneEstimate:
    """A fixed duration as given; 'auto' is speech + padding + the transition out (as the renderer does)."""
    words_text = scene.narration.words_text if scene.narration else ""
    words = count_words(words_text)
    if scene.duration != "auto":
        return SceneEstimate(scene.id, words, float(scene.duration), True)
    overlap = 0.0
    if not last and scene.transition is not None and scene.transition.type != "cut":
        overlap = scene.transition.duration
    return SceneEstimate(scene.id, words, speech_seconds(words_text, speed) + scene.padding + overlap, False)


def estimate_scenes(document: Document) -> list[SceneEstimate]:
    count = len(document.scenes)
    return [estimate_scene(scene, document.voice.speed, i == count - 1) for i, scene in enumerate(document.scenes)]


def scenes_seconds(document: Document, estimates: list[SceneEstimate] | None = None) -> float:
    """Length of the scene track: scene durations less the overlaps of transitions."""
    estimates = estimate_scenes(document) if estimates is None else estimates
    total = sum(e.seconds for e in estimates)
    for scene in document.scenes[:-1]:
        if scene.transition is not None and scene.transition.type != "cut":
            total -= scene.transition.duration
    return total


def document_seconds(document: Document) -> float:
    """Estimated length of the whole video."""
    if document.duration is not None:
        return float(document.duration)
    block_end = max((block.end for block in document.blocks), default=0.0)
    return max(scenes_seconds(document), block_end)
