"""Every narrated scene's speech: synthesized by the TTS engine, or the user's own recording."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Callable

from reelforge.model import Document
from reelforge.resolve.media import MediaInfo
from reelforge.resolve.sources import SourceResolver, check_kind
from reelforge.speech import Speech, WordTiming
from reelforge.workspace import Workspace


def narrations(document: Document, sources: SourceResolver, workspace: Workspace,
               on_step: Callable[[str], None] | None = None) -> dict[int, Speech]:
    """Speech for every narrated scene, by scene index: TTS (in a small thread pool) or the user's recording."""
    speeches: dict[int, Speech] = {}
    to_speak: list[tuple[int, str]] = []
    for index, scene in enumerate(document.scenes):
        narration = scene.narration
        if narration is None:
            continue
        if narration.audio is not None:
            where = f"scenes[{index}].narration.audio"
            media = sources.media(narration.audio, where)
            check_kind(media, "audio", where)
            speeches[index] = recorded_speech(media, narration.transcript or "")
        else:
            to_speak.append((index, narration.text or ""))
    if to_speak:
        from reelforge.speech.tts import synthesize

        if on_step:
            on_step(f"narration: {len(to_speak)} scenes")
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda item: synthesize(item[1], document.voice, workspace=workspace), to_speak)
            for (index, _text), speech in zip(to_speak, results):
                speeches[index] = speech
    return speeches


def recorded_speech(media: MediaInfo, transcript: str) -> Speech:
    """A user's recording: words of the transcript spread over the audio by their length in letters."""
    duration = media.duration or Fraction(0)
    sample_rate = 48000
    tokens = transcript.split()
    weights = [max(len(re.sub(r"\W", "", t)), 1) + 1 for t in tokens]
    total = sum(weights) or 1
    words, at = [], Fraction(0)
    for token, weight in zip(tokens, weights):
        span = duration * weight / total
        words.append(WordTiming(token, at, at + span))
        at += span
    return Speech(media.path, sample_rate, int(duration * sample_rate), tuple(words))
