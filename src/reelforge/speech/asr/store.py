"""The recording cache: word timings of an aligned or recognized recording (JSON, in samples at the recording's
own rate), and the exact lengths of recordings, under keys made of content hashes. The audio itself stays where
the user keeps it."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelforge.fileio import write_atomic
from reelforge.speech import Speech, WordTiming
from reelforge.speech.asr.audio import RecordingLength
from reelforge.speech.asr.words import TimedWord
from reelforge.workspace import content_key

FORMAT_VERSION = 1  # bump when the alignment or recognition method changes: old entries are then never hit


def speech_key(audio_hash: str, model_fingerprint: str, transcript: str | None, language: str | None) -> str:
    """sha256 of what shapes the timings: the audio's bytes, the model's files, the transcript (None: recognized)."""
    return content_key("reelforge-asr", FORMAT_VERSION, audio_hash, model_fingerprint, transcript, language)


def length_key(audio_hash: str) -> str:
    return content_key("recording-length", 1, audio_hash)


def load_speech(folder: Path, key: str, audio_path: Path) -> Speech | None:
    """The cached Speech for `key` (its audio at `audio_path`), or None when missing or damaged."""
    try:
        data = json.loads((folder / f"{key}.words.json").read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            return None
        rate, samples = int(data["sampleRate"]), int(data["samples"])
        words = [(str(w["text"]), int(w["startSample"]), int(w["endSample"])) for w in data["words"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return _speech(audio_path, rate, samples, words)


def save_speech(folder: Path, key: str, audio_path: Path, length: RecordingLength, words: list[TimedWord],
                about: dict[str, Any]) -> Speech:
    """Store `words` (seconds) as samples of the recording's own rate; returns the Speech they make."""
    rate, samples = length.sample_rate, length.samples
    placed = []
    for word in words:
        start = min(max(round(word.start * rate), 0), samples - 1)
        end = min(max(round(word.end * rate), start + 1), samples)
        placed.append((word.text, start, end, word.probability))
    document = {
        "format": FORMAT_VERSION,
        **about,
        "sampleRate": rate,
        "samples": samples,
        "words": [{"text": text, "startSample": start, "endSample": end, "probability": probability}
                  for text, start, end, probability in placed],
    }
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{key}.words.json", json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return _speech(audio_path, rate, samples, [(text, start, end) for text, start, end, _ in placed])


def load_length(folder: Path, key: str) -> RecordingLength | None:
    try:
        data = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        return RecordingLength(int(data["sampleRate"]), int(data["samples"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_length(folder: Path, key: str, length: RecordingLength) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / f"{key}.json", json.dumps({"sampleRate": length.sample_rate, "samples": length.samples}))
    except OSError:
        pass  # the cache only saves work


def _speech(audio_path: Path, rate: int, samples: int, words: list[tuple[str, int, int]]) -> Speech:
    return Speech(audio_path, rate, samples, tuple(
        WordTiming(text, Fraction(start, rate), Fraction(end, rate)) for text, start, end in words))
