"""Offline narration: piper speaks the text, and every written word gets its exact time in the audio.

    speech = synthesize("Hello world.", Voice(), workspace=workspace)   # -> reelforge.speech.Speech
    list_voices(workspace.voices) / find_voice("en_US-joe-medium", workspace.voices)

Audio is cached by content in the workspace: the key is a sha256 of (format version, engine, voice id, the
voice files' own hash, speed, text). The WAV (mono, 16-bit, the voice's rate) and the word timings
(JSON, in samples) sit side by side in `<cache>/tts/`; a hit reads them without loading the model.
Writes are atomic. Speed maps to piper's `length_scale = voice default / speed`. Below that, every
sentence is kept on its own (`<cache>/tts/sentences/`, by voice, speed and phoneme ids): piper's output
varies a little from one synthesis to the next, so an edited narration reuses its unchanged sentences
sample for sample, and their captions and the video pieces showing them stay valid.

Word timings come from the model itself, not from an estimate. piper's VITS model predicts how
many spectrogram frames each phoneme id lasts (the `Ceil` of its duration predictor); that tensor
is made a model output (piper.patch_voice_with_alignment, applied once to a copy in
`<cache>/tts/models/`), so each synthesized sentence comes with samples per phoneme id
(frames x hop length; they sum exactly to the sentence's samples). piper yields one chunk per
sentence; chunks are laid end to end, so every phoneme has an exact sample range in the whole
narration. Phonemes are mapped back to the written words (whitespace-separated, punctuation
attached) by aligning them with each word phonemized on its own: see `reelforge.speech.tts.align`. This
handles espeak joining words ("of the"), expanding one token into several ("1,200", "Dr.") and
tokens with no sound ("—"). Times are Fractions of samples / sample rate.
"""

from __future__ import annotations

from pathlib import Path

from reelforge.fileio import held_lock
from reelforge.model.audio import Voice
from reelforge.speech import Speech
from reelforge.speech.tts.errors import TTSError
from reelforge.speech.tts.voices import BUNDLED_VOICE_ID, VoiceInfo, find_voice, list_voices, voice_fingerprint
from reelforge.workspace import Workspace

__all__ = [
    "BUNDLED_VOICE_ID",
    "TTSError",
    "VoiceInfo",
    "find_voice",
    "list_voices",
    "cached_speech",
    "synthesize",
    "warm_voice",
]


def synthesize(text: str, voice: Voice, *, workspace: Workspace) -> Speech:
    """`text` spoken by `voice`: a cached WAV and one WordTiming per whitespace-separated token of `text`.

    The voice is looked up among the bundled voice and `workspace.voices`; the cache is the workspace's."""
    from reelforge.speech.tts import store

    tokens = text.split()
    if not tokens:
        raise TTSError("narration text is empty: there is nothing to say")
    if voice.engine != "piper":
        raise TTSError(f"unknown speech engine {voice.engine!r}; reelforge speaks with 'piper'")
    info = find_voice(voice.voice_id, workspace.voices)
    folder = workspace.folder("tts")
    key = store.speech_key(voice.engine, info.voice_id, voice_fingerprint(info, workspace), voice.speed, text)
    cached = store.load(folder, key, tokens)
    if cached is not None:
        workspace.stats.count("cache_hits")
        return cached
    # One synthesis per key: piper's output varies from one run to the next, so a second, concurrent synthesis
    # (another render, an editor's worker) must not replace the speech a render already used.
    with held_lock(folder / f"{key}.lock"):
        cached = store.load(folder, key, tokens)
        if cached is not None:
            workspace.stats.count("cache_hits")
            return cached
        return _synthesize_into(folder, key, text, tokens, voice, info, workspace)


def warm_voice(voice: Voice, *, workspace: Workspace) -> None:
    """Load `voice` into this process and run it once, so that the next `synthesize` pays for neither (the
    editor calls this in a background thread a second after it opens: the first narration edit is then heard in
    about the time its changed sentences take). Nothing is written to the cache but the voice's patched model."""
    from reelforge.speech.tts import piper_engine

    if voice.engine != "piper":
        return
    info = find_voice(voice.voice_id, workspace.voices)
    loaded = piper_engine.load_voice(info, workspace.folder("tts") / "models", workspace)
    loaded.speak("Ready.", voice.speed)  # onnxruntime's first run allocates its buffers; not kept


def cached_speech(text: str, voice: Voice, *, workspace: Workspace) -> Speech | None:
    """The cached Speech for `text` and `voice` when it was spoken before; None otherwise. Never synthesizes."""
    from reelforge.speech.tts import store

    tokens = text.split()
    if not tokens or voice.engine != "piper":
        return None
    try:
        info = find_voice(voice.voice_id, workspace.voices)
    except TTSError:
        return None
    key = store.speech_key(voice.engine, info.voice_id, voice_fingerprint(info, workspace), voice.speed, text)
    return store.load(workspace.folder("tts"), key, tokens)


def _synthesize_into(folder: Path, key: str, text: str, tokens: list[str], voice: Voice, info: VoiceInfo,
                     workspace: Workspace) -> Speech:
    from reelforge.speech.tts import align, piper_engine, store

    loaded = piper_engine.load_voice(info, folder / "models", workspace)
    spoken = loaded.speak(text, voice.speed, folder / "sentences", workspace.stats)
    if spoken.samples == 0:
        raise TTSError(f"voice {info.voice_id!r} produced no audio for {text[:60]!r}: is there anything to pronounce?")
    spans = align.word_spans([loaded.phonemize_word(token) for token in tokens], spoken.phonemes)
    workspace.stats.count("synthesized")
    words = [(token, start, end) for token, (start, end) in zip(tokens, spans)]
    about = {"engine": voice.engine, "voice": info.voice_id, "speed": voice.speed, "text": text}
    return store.save(folder, key, spoken.pcm, spoken.sample_rate, words, about)
