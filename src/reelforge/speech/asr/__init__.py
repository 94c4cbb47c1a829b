"""Offline speech recognition and forced alignment (faster-whisper / CTranslate2, Whisper tiny.en bundled).

    speech = recorded_speech(path, "The words said.", workspace)   # aligned: reelforge.speech.Speech
    speech = recorded_speech(path, None, workspace)                # recognized words, same Speech
    length = exact_length(path, workspace)                         # RecordingLength(sample_rate, samples)
    words = recognize_file(load_model(), path)                     # [TimedWord], bounded memory

A recording with a transcript gets every written word aligned to it (`align`); without one, its words are
recognized (`recognize`) and then aligned the same way. Both give the `Speech` piper's narration gives (words with
exact times, in samples of the recording's own rate), so captions, karaoke highlight and scene lengths work alike.
Results are cached in `<cache>/asr/` by the audio's content hash, the model files' hashes and the transcript.
One model is loaded per process and folder (`engine.load_model`) and shared; nothing is fetched from a hub.

Modules: engine (the model), audio (streamed decoding, exact length, energy), text (sentences, spoken numbers,
word error rate), align, recognize, store (the cache files), recording (the cached API above), transcribe (the
`reelforge transcribe` batch command).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelforge.speech.asr.audio import RecordingLength
    from reelforge.speech.asr.engine import LoadedModel, default_model_folder, load_model, model_folder
    from reelforge.speech.asr.errors import AsrError, AudioError, ModelError, NoSpeechError
    from reelforge.speech.asr.recording import cached_recorded_speech, exact_length, recorded_speech
    from reelforge.speech.asr.words import TimedWord

# Loaded on first use (PEP 562), so that the command line, which imports `cli_commands` to build its parser,
# does not load numpy and the decoder for every command.
_HOMES = {
    "RecordingLength": "audio", "LoadedModel": "engine", "default_model_folder": "engine", "load_model": "engine",
    "model_folder": "engine", "AsrError": "errors", "AudioError": "errors", "ModelError": "errors",
    "NoSpeechError": "errors", "cached_recorded_speech": "recording", "exact_length": "recording",
    "recorded_speech": "recording", "TimedWord": "words",
}


def __getattr__(name: str):
    if name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AsrError", "AudioError", "LoadedModel", "ModelError", "NoSpeechError", "RecordingLength", "TimedWord",
    "cached_recorded_speech", "default_model_folder", "exact_length", "load_model", "model_folder",
    "recognize_file", "recorded_speech", "transcript_of",
]


def transcript_of(speech) -> str:
    """The words of a Speech as one line of text (a recognized recording's transcript, for the user to correct)."""
    return " ".join(word.text for word in speech.words)


def recognize_file(model: LoadedModel, path, language: str | None = None, **options) -> list[TimedWord]:
    """The words said in a file, in bounded memory (see `reelforge.speech.asr.recognize.recognize_file`)."""
    from reelforge.speech.asr.recognize import recognize_file as recognize

    return recognize(model, path, language, **options)
