"""A user's recording as narration: its exact length, and its words aligned (with a transcript) or recognized
(without one) into the same `Speech` piper's narration gives, cached in the workspace by content."""

from __future__ import annotations

from pathlib import Path

from reelforge.speech import Speech
from reelforge.speech.asr import store
from reelforge.speech.asr.audio import RecordingLength, read_pcm, recording_length
from reelforge.speech.asr.engine import load_model, model_files, model_folder
from reelforge.workspace import Workspace


def exact_length(path: Path, workspace: Workspace) -> RecordingLength:
    """The recording's exact length (decoded samples at its own rate), remembered by content hash.
    AudioError when the file holds no decodable audio."""
    path = Path(path)
    if not path.is_file():
        return recording_length(path)  # raises the AudioError that names it
    folder = workspace.cache / "asr" / "lengths"
    key = store.length_key(workspace.file_hash(path))
    known = store.load_length(folder, key)
    if known is None:
        known = recording_length(path)
        store.save_length(folder, key, known)
    return known


def model_fingerprint(folder: Path, workspace: Workspace) -> str:
    """The content hashes of a model folder's files, joined: a different model never hits another's cache."""
    return "+".join(workspace.file_hash(file) for file in model_files(folder))


def _key(path: Path, transcript: str | None, workspace: Workspace, model: Path | None, language: str | None) -> str:
    folder = model_folder(model if model is not None else workspace.asr_model)
    return store.speech_key(workspace.file_hash(path), model_fingerprint(folder, workspace),
                            _clean(transcript), language)


def _clean(transcript: str | None) -> str | None:
    return transcript if transcript is not None and transcript.split() else None


def cached_recorded_speech(path: Path, transcript: str | None, workspace: Workspace, *, model: Path | None = None,
                           language: str | None = None) -> Speech | None:
    """The cached result of `recorded_speech` for these arguments, or None; never loads the model."""
    path = Path(path)
    return store.load_speech(workspace.folder("asr"), _key(path, transcript, workspace, model, language), path)


def recorded_speech(path: Path, transcript: str | None, workspace: Workspace, *, model: Path | None = None,
                    language: str | None = None) -> Speech:
    """The recording at `path` as a Speech: every word of `transcript` (as written) aligned to it, or, when the
    transcript is None or blank, the words recognized in it (an empty `words` when nothing is said).

    Cached by the audio's content hash, the model's files and the transcript: a second call (any process) reads
    JSON and loads no model. `model` is a faster-whisper model folder (default: `workspace.asr_model`, else the
    bundled Whisper tiny.en).
    Raises AudioError (not a readable recording), ModelError (no usable model), NoSpeechError (a transcript
    for a silent recording)."""
    from reelforge.speech.asr.align import align_transcript
    from reelforge.speech.asr.recognize import recognize_file

    path = Path(path)
    transcript = _clean(transcript)
    length = exact_length(path, workspace)
    key = _key(path, transcript, workspace, model, language)
    folder = workspace.folder("asr")
    cached = store.load_speech(folder, key, path)
    if cached is not None:
        workspace.stats.count("cache_hits")
        return cached
    loaded = load_model(model if model is not None else workspace.asr_model)
    if transcript is not None:
        words = align_transcript(loaded, read_pcm(path), transcript, language)
    else:
        words = recognize_file(loaded, path, language)
    workspace.stats.count("heard")
    about = {"mode": "align" if transcript is not None else "recognize", "model": loaded.name,
             "transcript": transcript}
    return store.save_speech(folder, key, path, length, words, about)
