"""The TTS cache: a narration's WAV and its word timings (JSON, in samples) stored under one content key."""

from __future__ import annotations

import io
import json
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelforge.fileio import write_atomic
from reelforge.speech import Speech, WordTiming
from reelforge.workspace import content_key

FORMAT_VERSION = 1  # bump when the audio or the timing method changes: old entries are then never hit


def speech_key(engine: str, voice_id: str, voice_fingerprint: str, speed: float, text: str) -> str:
    """sha256 of everything that shapes the audio; the voice counts by its files' content hash."""
    return content_key("reelforge-tts", FORMAT_VERSION, engine, voice_id, voice_fingerprint, float(speed), text)


def load(folder: Path, key: str, tokens: list[str]) -> Speech | None:
    """The cached speech for `key`, or None when it is missing, damaged or does not match `tokens`."""
    audio_path, timings_path = _paths(folder, key)
    try:
        data = json.loads(timings_path.read_text(encoding="utf-8"))
        with wave.open(str(audio_path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
        if data.get("format") != FORMAT_VERSION or (frames, rate) != (data["samples"], data["sampleRate"]):
            return None
        words = [(str(w["text"]), int(w["startSample"]), int(w["endSample"])) for w in data["words"]]
    except (OSError, EOFError, ValueError, KeyError, TypeError, wave.Error):
        return None
    if [text for text, _, _ in words] != tokens:
        return None
    return _speech(audio_path, rate, frames, words)


def save(folder: Path, key: str, pcm: bytes, sample_rate: int, words: list[tuple[str, int, int]], about: dict[str, Any]) -> Speech:
    """Write the WAV (16-bit mono) then the timings, each atomically; the timings file marks a complete entry."""
    folder.mkdir(parents=True, exist_ok=True)
    audio_path, timings_path = _paths(folder, key)
    write_atomic(audio_path, wav_bytes(pcm, sample_rate))
    samples = len(pcm) // 2
    document = {
        "format": FORMAT_VERSION,
        **about,
        "sampleRate": sample_rate,
        "samples": samples,
        "words": [{"text": text, "startSample": start, "endSample": end} for text, start, end in words],
    }
    write_atomic(timings_path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return _speech(audio_path, sample_rate, samples, words)


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    """A mono 16-bit WAV file holding `pcm`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return buffer.getvalue()


def _paths(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / f"{key}.wav", folder / f"{key}.words.json"


def _speech(audio_path: Path, sample_rate: int, samples: int, words: list[tuple[str, int, int]]) -> Speech:
    return Speech(
        audio_path=audio_path,
        sample_rate=sample_rate,
        samples=samples,
        words=tuple(WordTiming(text, Fraction(start, sample_rate), Fraction(end, sample_rate)) for text, start, end in words),
    )
