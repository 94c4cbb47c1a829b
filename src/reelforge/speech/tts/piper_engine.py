"""Running a piper voice: its model patched once (into the cache) to report phoneme durations, loaded once per process."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelforge.fileio import atomic_output
from reelforge.speech.tts.errors import TTSError
from reelforge.speech.tts.voices import VoiceInfo, voice_fingerprint
from reelforge.workspace import SpeechStats, Workspace

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


SENTENCE_FORMAT = 1  # part of a cached sentence's key


class LoadedVoice:
    """A piper voice in memory whose model also outputs samples per phoneme id."""

    def __init__(self, info: VoiceInfo, piper_voice: Any, fingerprint: str = ""):
        self.info = info
        self._voice = piper_voice
        self.fingerprint = fingerprint

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def phonemize_word(self, word: str) -> str:
        """The phonemes of `word` said on its own, as piper phonemizes text (NFD; clauses joined by spaces)."""
        return " ".join("".join(sentence) for sentence in self._voice.phonemize(word))

    def speak(self, text: str, speed: float, sentence_dir: Path | None = None,
              stats: SpeechStats | None = None) -> SpokenAudio:
        """Synthesize `text` one sentence at a time (as piper does), laid end to end at exact sample offsets.

        With `sentence_dir`, each sentence's audio and phoneme durations are kept there by (voice, speed,
        phoneme ids): a sentence said before is reused as it was. piper's output varies a little from one
        synthesis to the next, so this keeps the unchanged sentences of an edited narration, their captions
        and the video pieces showing them exactly as they were."""
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=self._voice.config.length_scale / speed)
        pcm: list[bytes] = []
        timed: list[TimedPhoneme] = []
        offset = 0
        sentences = [phonemes for phonemes in self._voice.phonemize(text) if phonemes]
        for sentence, phonemes in enumerate(sentences):
            ids = self._voice.phonemes_to_ids(phonemes)
            audio, counts = self._sentence(ids, config, sentence_dir, stats)
            timed.extend(self._timed_phonemes(phonemes, ids, counts, len(audio), offset, sentence))
            pcm.append(audio.tobytes())
            offset += len(audio)
        return SpokenAudio(sample_rate=self.sample_rate, pcm=b"".join(pcm), phonemes=tuple(timed))

    def _sentence(self, ids: list[int], config: Any, sentence_dir: Path | None,
                  stats: SpeechStats | None) -> tuple[Any, Any]:
        """One sentence as int16 samples and samples per phoneme id: from `sentence_dir`, or synthesized
        exactly as piper's `synthesize` does (normalized to full scale, clipped)."""
        import io

        import numpy as np

        from reelforge.fileio import write_atomic
        from reelforge.workspace import content_key

        path = None
        if sentence_dir is not None:
            key = content_key("piper-sentence", SENTENCE_FORMAT, self.fingerprint, config.length_scale, ids)
            path = sentence_dir / f"{key}.npz"
            try:
                with np.load(path) as stored:
                    audio, counts = stored["audio"], stored["counts"]
                if audio.dtype == np.int16 and len(counts) == len(ids) and int(counts.sum()) == len(audio):
                    if stats is not None:
                        stats.count("sentence_hits")
                    return audio, counts
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - a damaged entry (truncated, not a zip, bad checksum): made again
                path.unlink(missing_ok=True)
        result = self._voice.phoneme_ids_to_audio(ids, config, include_alignments=True)
        audio, counts = result if isinstance(result, tuple) else (result, None)
        if counts is None or len(counts) != len(ids):
            raise TTSError(f"voice {self.info.voice_id!r} did not report phoneme durations, so words cannot be timed")
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        audio = np.zeros_like(audio) if peak < 1e-8 else audio / peak
        audio = np.clip(audio * 32767.0, -32767.0, 32767.0).astype(np.int16)
        counts = np.asarray(counts, dtype=np.int64)
        if path is not None:
            buffer = io.BytesIO()
            np.savez(buffer, audio=audio, counts=counts)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, buffer.getvalue(), exclusive=True)
                with np.load(path) as stored:  # the first synthesis of a sentence is the one every narration uses
                    audio, counts = stored["audio"], stored["counts"]
            except OSError:
                pass  # the cache only saves work: a full or read-only disk must not fail the synthesis
        return audio, counts

    def _timed_phonemes(self, phonemes: list[str], ids: list[int], counts: Any, samples: int, offset: int,
                        sentence: int) -> list[TimedPhoneme]:
        """Each phoneme's samples: the model's count for its ids plus the pad id piper puts after it.

        piper's own `phoneme_alignments` give up on a phoneme missing from the id map (piper drops
        it from the ids); here such a phoneme just gets zero samples.
        """
        from piper.const import BOS, EOS, PAD

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
        for phoneme in phonemes:
            width = len(id_map[phoneme]) + pad if phoneme in id_map else 0
            length = int(counts[position : position + width].sum())
            timed.append(TimedPhoneme(phoneme, cursor, cursor + length, sentence))
            cursor += length
            position += width
        if position + len(id_map[EOS]) != len(ids):
            raise TTSError(f"voice {self.info.voice_id!r}: phoneme ids do not match its phonemes; words cannot be timed")
        return timed


def load_voice(info: VoiceInfo, models_dir: Path, workspace: Workspace) -> LoadedVoice:
    """The voice, loaded at most once per process (a few are kept, least recently used dropped first).

    Loaded models are kept by the hash of the voice's files: whatever workspace asks, the same bytes make the
    same model, so sharing them between workspaces is safe."""
    fingerprint = voice_fingerprint(info, workspace)
    memo_key = (str(info.model_path), fingerprint)
    with _LOAD_LOCK:
        if memo_key in _LOADED:
            _LOADED.move_to_end(memo_key)
            return _LOADED[memo_key]
        loaded = _load(info, _model_with_durations(info, fingerprint, models_dir), fingerprint)
        workspace.stats.count("models_loaded")
        _LOADED[memo_key] = loaded
        while len(_LOADED) > _MAX_LOADED:
            _LOADED.popitem(last=False)
        return loaded


def _load(info: VoiceInfo, model_path: Path, fingerprint: str) -> LoadedVoice:
    from piper import PiperVoice

    try:
        piper_voice = PiperVoice.load(model_path, config_path=info.config_path)
    except Exception as error:  # onnxruntime raises its own exception types for unreadable models
        raise TTSError(f"cannot load voice {info.voice_id!r} from {info.model_path}: {error}") from error
    return LoadedVoice(info, piper_voice, fingerprint)


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
    with atomic_output(patched, suffix=".onnx") as temp:
        onnx.save(model, str(temp))
    _LOGGER.info("patched voice %s for phoneme durations: %s", info.voice_id, patched)
    return patched
