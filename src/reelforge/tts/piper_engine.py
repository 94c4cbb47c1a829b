"""Running a piper voice: its model patched once (into the cache) to report phoneme durations, loaded once per process."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelforge.tts.errors import TTSError
from reelforge.tts.stats import stats
from reelforge.tts.voices import VoiceInfo, voice_fingerprint

_LOGGER = logging.getLogger(__name__)

_MAX_LOADED = 4  # voice models kept in memory (a model is ~60 MB)
_LOADED: OrderedDict[tuple[str, str], "LoadedVoice"] = OrderedDict()
_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class TimedPhoneme:
    """One phoneme piper spoke and the samples [start, end) it covers in the whole narration."""

    phoneme: str
    start: int
    end: int
    sentence: int  # index of piper's chunk (one per sentence)


@dataclass(frozen=True)
class SpokenAudio:
    """The narration as 16-bit mono PCM, and every phoneme's place in it."""

    sample_rate: int
    pcm: bytes
    phonemes: tuple[TimedPhoneme, ...]

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2


class LoadedVoice:
    """A piper voice in memory whose model also outputs samples per phoneme id."""

    def __init__(self, info: VoiceInfo, piper_voice: Any):
        self.info = info
        self._voice = piper_voice

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def phonemize_word(self, word: str) -> str:
        """The phonemes of `word` said on its own, as piper phonemizes text (NFD; clauses joined by spaces)."""
        return " ".join("".join(sentence) for sentence in self._voice.phonemize(word))

    def speak(self, text: str, speed: float) -> SpokenAudio:
        """Synthesize `text`; piper yields one chunk per sentence, laid end to end at exact sample offsets."""
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self._voice.config.length_scale / speed)
        pcm: list[bytes] = []
        timed: list[TimedPhoneme] = []
        offset = 0
        for sentence, chunk in enumerate(self._voice.synthesize(text, config, include_alignments=True)):
            samples = len(chunk.audio_float_array)
            timed.extend(self._timed_phonemes(chunk, offset, sentence))
            pcm.append(chunk.audio_int16_bytes)
            offset += samples
        return SpokenAudio(sample_rate=self.sample_rate, pcm=b"".join(pcm), phonemes=tuple(timed))

    def _timed_phonemes(self, chunk: Any, offset: int, sentence: int) -> list[TimedPhoneme]:
        """Each phoneme's samples: the model's count for its ids plus the pad id piper puts after it.

        piper's own `phoneme_alignments` give up on a phoneme missing from the id map (piper drops
        it from the ids); here such a phoneme just gets zero samples.
        """
        from piper.const import BOS, EOS, PAD

        counts = chunk.phoneme_id_samples
        samples = len(chunk.audio_float_array)
        if counts is None or len(counts) != len(chunk.phoneme_ids):
            raise TTSError(f"voice {self.info.voice_id!r} did not report phoneme durations, so words cannot be timed")
        if int(counts.sum()) != samples:
            raise TTSError(
                f"voice {self.info.voice_id!r} reported phoneme durations of {int(counts.sum())} samples "
                f"for {samples} samples of audio; word timings would drift"
            )
        id_map = self._voice.config.phoneme_id_map
        pad = len(id_map[PAD])
        position = len(id_map[BOS]) + pad
        cursor = offset + int(counts[:position].sum())
        timed = []
        for phoneme in chunk.phonemes:
            width = len(id_map[phoneme]) + pad if phoneme in id_map else 0
            length = int(counts[position : position + width].sum())
            timed.append(TimedPhoneme(phoneme, cursor, cursor + length, sentence))
            cursor += length
            position += width
        if position + len(id_map[EOS]) != len(chunk.phoneme_ids):
            raise TTSError(f"voice {self.info.voice_id!r}: phoneme ids do not match its phonemes; words cannot be timed")
        return timed


def load_voice(info: VoiceInfo, models_dir: Path) -> LoadedVoice:
    """The voice, loaded at most once per process (a few are kept, least recently used dropped first)."""
    fingerprint = voice_fingerprint(info)
    memo_key = (str(info.model_path), fingerprint)
    with _LOAD_LOCK:
        if memo_key in _LOADED:
            _LOADED.move_to_end(memo_key)
            return _LOADED[memo_key]
        loaded = _load(info, _model_with_durations(info, fingerprint, models_dir))
        _LOADED[memo_key] = loaded
        while len(_LOADED) > _MAX_LOADED:
            _LOADED.popitem(last=False)
        return loaded


def _load(info: VoiceInfo, model_path: Path) -> LoadedVoice:
    from piper import PiperVoice

    try:
        piper_voice = PiperVoice.load(model_path, config_path=info.config_path)
    except Exception as error:  # onnxruntime raises its own exception types for unreadable models
        raise TTSError(f"cannot load voice {info.voice_id!r} from {info.model_path}: {error}") from error
    stats.count("models_loaded")
    return LoadedVoice(info, piper_voice)


def _model_with_durations(info: VoiceInfo, fingerprint: str, models_dir: Path) -> Path:
    """A model file that outputs samples per phoneme id: the voice's own if it already does, else a patched copy.

    The patch (piper.patch_voice_with_alignment) marks the duration tensor (the `Ceil` of the
    predicted widths) as a second graph output. It is written once into the cache, keyed by the
    voice's content hash; the installed voice file is never modified.
    """
    patched = models_dir / f"{fingerprint[:32]}.onnx"  # by content: copies of one voice share it
    if patched.is_file():
        return patched
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    try:
        model = onnx.load(str(info.model_path))
    except Exception as error:  # onnx raises DecodeError and friends for a damaged file
        raise TTSError(f"cannot read voice model {info.model_path}: {error}") from error
    ceil_outputs = {name for node in model.graph.node if node.op_type == "Ceil" for name in node.output}
    if ceil_outputs & {output.name for output in model.graph.output}:
        return info.model_path
    if len(ceil_outputs) != 1:
        raise TTSError(
            f"voice {info.voice_id!r} has no single phoneme-duration tensor (found {len(ceil_outputs)}), "
            "so word timings cannot be read from it"
        )
    add_alignment_output(model, next(iter(ceil_outputs)))
    models_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{patched.name}.", suffix=".tmp", dir=models_dir)
    os.close(fd)
    try:
        onnx.save(model, tmp_name)
        os.replace(tmp_name, patched)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _LOGGER.info("patched voice %s for phoneme durations: %s", info.voice_id, patched)
    return patched
