"""Estimated durations before any TTS runs: a words-per-minute model scaled by the voice speed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelforge.model.document import Document
from reelforge.model.scene import Scene

# Measured on the bundled en_US-joe-medium piper voice at speed 1 (see BENCHMARKS.md, "speech rate").
WORDS_PER_MINUTE = 165.0
# Extra seconds a sentence break adds beyond the words themselves.
SENTENCE_PAUSE = 0.25

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """Estimated seconds to speak `text` at `speed`."""
    words = count_words(text)
    if words == 0:
        return 0.0
    breaks = max(len(_SENTENCE_END.findall(text.strip())) - 1, 0)
    return (words * 60.0 / WORDS_PER_MINUTE + breaks * SENTENCE_PAUSE) / speed


@dataclass(frozen=True)
class SceneEstimate:
    scene_id: str
    words: int
    seconds: float
    fixed: bool  # True when the scene has a fixed duration rather than an estimate


def estimate_scene(scene: Scene, speed: float) -> SceneEstimate:
    words_text = scene.narration.words_text if scene.narration else ""
    words = count_words(words_text)
    if scene.duration != "auto":
        return SceneEstimate(scene.id, words, float(scene.duration), True)
    return SceneEstimate(scene.id, words, speech_seconds(words_text, speed) + scene.padding, False)


def estimate_scenes(document: Document) -> list[SceneEstimate]:
    return [estimate_scene(scene, document.voice.speed) for scene in document.scenes]


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
