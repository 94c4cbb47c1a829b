"""Recognition: the words of a recording and their times, for a recording without a transcript.

faster-whisper decodes greedily (beam 1) with word timestamps. Its own word times come from the same DTW as the
aligner but over free decoding, and are rougher (about 75 ms median, 370 ms at the 95th percentile on piper
speech), so the recognized words are aligned again to the audio (`align.align_transcript`) for the same accuracy
as a given transcript; the recognizer's probability of each word stays as its confidence.

A file is read in blocks and recognized in pieces of about `CHUNK` seconds, each cut at the quietest 10 ms of its
last `SEARCH` seconds, so memory stays bounded for a file of any length (faster-whisper's own `transcribe(path)`
decodes the whole file first: 750 MB for 11 minutes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from reelforge.speech.asr.align import align_transcript
from reelforge.speech.asr.audio import HOP, SAMPLE_RATE, frame_db, quietest_frame, stream_pcm
from reelforge.speech.asr.engine import LoadedModel
from reelforge.speech.asr.errors import NoSpeechError
from reelforge.speech.asr.words import TimedWord

CHUNK = 120.0
SEARCH = 3.0


def recognize_pcm(model: LoadedModel, pcm: np.ndarray, language: str | None = None, *, align: bool = True) -> list[TimedWord]:
    """The words said in `pcm` (16 kHz mono float32), in order; [] when nothing is said."""
    options = dict(language=("en" if not model.multilingual else language), beam_size=1, best_of=1,
                   word_timestamps=True, vad_filter=False, condition_on_previous_text=False)
    words: list[TimedWord] = []
    with model.lock:
        segments, _info = model.whisper.transcribe(pcm, **options)
        for segment in segments:  # a generator: decoding happens while it is read
            for word in segment.words or []:
                text = word.word
                if words and not text.startswith(" "):
                    # "$1,200" comes as " $1" + ",200": a piece without a leading space belongs to the word before
                    before = words[-1]
                    words[-1] = TimedWord(before.text + text.strip(), before.start, float(word.end),
                                          min(before.probability, float(word.probability)))
                elif text.strip():
                    words.append(TimedWord(text.strip(), float(word.start), float(word.end), float(word.probability)))
    if not words or not align:
        return words
    try:
        aligned = align_transcript(model, pcm, " ".join(word.text for word in words), language)
    except NoSpeechError:
        return words
    return [TimedWord(word.text, placed.start, placed.end, round(word.probability, 4))
            for word, placed in zip(words, aligned)]


def recognize_blocks(model: LoadedModel, blocks: Iterable[np.ndarray], language: str | None = None, *,
                     align: bool = True, on_progress: Callable[[float], None] | None = None) -> list[TimedWord]:
    """Recognize a stream of 16 kHz blocks piece by piece (see the module's docstring); `on_progress` gets the
    seconds of audio done so far."""
    words: list[TimedWord] = []
    pending = np.zeros(0, np.float32)
    offset = 0.0

    def run(piece: np.ndarray) -> None:
        words.extend(word.shifted(offset) for word in recognize_pcm(model, piece, language, align=align))
        if on_progress is not None:
            on_progress(offset + len(piece) / SAMPLE_RATE)

    search = int(SEARCH * SAMPLE_RATE)
    for block in blocks:
        pending = np.concatenate([pending, block]) if len(pending) else block
        while len(pending) >= CHUNK * SAMPLE_RATE:
            cut = len(pending) - search + quietest_frame(frame_db(pending[-search:])) * HOP
            run(pending[:cut])
            offset += cut / SAMPLE_RATE
            pending = pending[cut:].copy()
    if len(pending):
        run(pending)
    return [TimedWord(w.text, round(w.start, 3), round(w.end, 3), w.probability) for w in words]


def recognize_file(model: LoadedModel, path: Path, language: str | None = None, *, align: bool = True,
                   on_progress: Callable[[float], None] | None = None) -> list[TimedWord]:
    """The words said in the first audio track of `path`, in bounded memory. AudioError when it is not audio."""
    return recognize_blocks(model, stream_pcm(Path(path)), language, align=align, on_progress=on_progress)
