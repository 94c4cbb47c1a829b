"""Forced alignment: the known words of a transcript placed on a recording, with Whisper's own cross-attention.

The transcript's words (whitespace-separated, punctuation attached, as written) are tokenized each with a
leading space, so the token sequence is the text's and every token belongs to exactly one written word; numbers
are tokenized in their spoken form (`text.spoken_form`). CTranslate2's `Whisper.align` runs the decoder over
these tokens against the encoder output of a window of at most 30 s and returns the DTW path through the
alignment heads' attention; a word starts where its first non-punctuation token starts and ends where its last
one ends (a '.' or ',' token absorbs the pause after it, so it must not stretch the word).

Windows start and end at sentence boundaries: the sentences whose estimated length fits in `FILL` x 30 s are
aligned together; when the audio goes on, the last of them is provisional and the next window starts at the
quietest point between the last kept sentence and it. A sentence the model does not hear in its window (mean
token probability below `UNHEARD`) is left to the next window, so a missing or extra sentence costs little.

DTW knows nothing of silence and its times are a little late, so a calibrated constant (`DTW_OFFSET`, fitted on
an independent set of piper speech, see bench/asr.py) is added and word edges next to a pause of at least
`MIN_GAP` are moved onto the energy edges of the pause. Times are then made monotonic, inside the recording, and
every word lasts at least one encoder frame (`MIN_WORD`): no zero-length words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelforge.speech.asr.audio import SAMPLE_RATE, frame_db, has_sound, quietest_frame, speech_islands, speech_threshold
from reelforge.speech.asr.engine import LoadedModel
from reelforge.speech.asr.errors import NoSpeechError
from reelforge.speech.asr.text import is_punctuation, split_sentences, spoken_form
from reelforge.speech.asr.words import TimedWord

WINDOW = 30.0  # seconds the Whisper encoder hears at once
FILL = 0.85  # share of a window the estimated text may fill
TOKEN_SECONDS = 0.02  # one encoder frame: the DTW's time step
MIN_WORD = 0.02  # no word is shorter than one encoder frame
DTW_OFFSET = -0.04  # DTW word starts are late by about 40 ms with tiny.en (calibrated: bench/asr.py --calibrate)
UNHEARD = 0.3  # mean token probability under which a sentence was not heard in its window
MIN_GAP = 0.10  # pauses this long (seconds) pull the word edges next to them onto the energy edges
MAX_SNAP = 0.6  # ... by at most this much
MEDIAN_FILTER = 9  # frames of median filtering of the attention before the DTW
LEAD = 0.2  # seconds a window starts before the first sound in it
MAX_TOKENS = 400  # text tokens aligned in one window (the decoder holds 448 positions, the start sequence included)


@dataclass
class _Unit:
    """Words aligned as one piece: a sentence, or a part of an over-long one."""

    first: int
    end: int
    chars: int
    tokens: int


def align_transcript(model: LoadedModel, pcm: np.ndarray, transcript: str, language: str | None = None) -> list[TimedWord]:
    """Every whitespace-separated word of `transcript`, as written, with its time in `pcm` (16 kHz mono float32).

    Line breaks end sentences too. Raises NoSpeechError when `pcm` holds no sound."""
    lines = [line.split() for line in transcript.splitlines()]
    words = [word for line in lines for word in line]
    if not words:
        return []
    line_ends = [j == len(line) - 1 for line in lines for j in range(len(line))]
    db = frame_db(pcm)
    threshold = speech_threshold(db)
    loud = np.flatnonzero(db > threshold)
    if len(loud) == 0 or not has_sound(db):
        raise NoSpeechError("the recording holds no speech (it is silent): there is nothing to align the transcript to")
    with model.lock:
        return _Aligner(model, language, pcm, db, threshold, loud).run(words, line_ends)


class _Aligner:
    def __init__(self, model: LoadedModel, language: str | None, pcm: np.ndarray, db: np.ndarray, threshold: float,
                 loud: np.ndarray):
        self.whisper = model.whisper
        self.tokenizer = model.tokenizer(language)
        self.pcm = pcm
        self.duration = len(pcm) / SAMPLE_RATE
        self.db = db
        self.threshold = threshold
        self.first_sound = loud[0] * 0.01
        self.last_sound = (loud[-1] + 1) * 0.01
        self._encoded = None

    def tokens(self, word: str) -> list[int]:
        return self.tokenizer.encode(" " + spoken_form(word))

    def run(self, words: list[str], line_ends: list[bool]) -> list[TimedWord]:
        tokens = [self.tokens(word) for word in words]
        chars = sum(len(word) + 1 for word in words)
        seconds_per_char = max(self.last_sound - self.first_sound, 0.1) / chars
        counts = [len(t) for t in tokens]
        units = _units(words, split_sentences(words, line_ends), seconds_per_char, FILL * WINDOW * 0.9, counts)
        found: list[tuple[float, float, float]] = [(self.duration, self.duration, 0.0)] * len(words)
        cursor, u = max(0.0, self.first_sound - LEAD), 0
        while u < len(units) and cursor < self.duration - 0.05:  # words past the audio's end are squeezed there
            v, estimate, held = u, 0.0, 0
            while v < len(units) and (v == u or (estimate + units[v].chars * seconds_per_char <= FILL * WINDOW
                                                 and held + units[v].tokens <= MAX_TOKENS)):
                estimate += units[v].chars * seconds_per_char
                held += units[v].tokens
                v += 1
            cursor = self._skip_quiet(cursor)
            stop = min(cursor + WINDOW, self.duration)
            while True:
                last = v == len(units) and stop >= self.duration - 1e-6
                first, end = units[u].first, units[v - 1].end
                times = self.window(cursor, stop, tokens[first:end], words[first:end])
                squeezed = not last and times[-1][0] >= stop - 0.3  # the text ran into the window's end
                if squeezed and v - u > 2:
                    v -= max(1, (v - u) // 4)  # one unit less, or a quarter of many (a transcript far too long)
                    continue
                break
            keep = v if last or v - u == 1 else v - 1
            for x in range(u + 1, keep):
                a, b = units[x].first - first, units[x].end - first
                if np.mean([t[2] for t in times[a:b]]) < UNHEARD:
                    keep = x
                    break
            kept_end = units[keep - 1].end
            if last:
                following = self.duration
            else:
                end_kept = times[kept_end - first - 1][1]
                start_next = times[kept_end - first][0] if keep < v else min(end_kept + 1.0, self.duration)
                following = self._quietest(max(cursor, min(end_kept, start_next) - 0.05),
                                           min(max(end_kept, start_next) + 0.05, self.duration))
                following = max(following, cursor + 0.5)
            times = [(s + DTW_OFFSET, e + DTW_OFFSET, p) for s, e, p in times[: kept_end - first]]
            onset = self._onset(cursor, times[0][1])
            times[0] = (max(times[0][0], onset), times[0][1], times[0][2])
            found[first:kept_end] = times
            cursor, u = following, keep
        shortest = min(MIN_WORD, self.duration / (len(words) + 1))  # a transcript far longer than its audio
        spans = _monotonic([(s, e) for s, e, _ in found], self.duration, shortest)
        islands = speech_islands(self.db, self.threshold, MIN_GAP)
        spans = _monotonic(_snap(spans, islands, MAX_SNAP), self.duration, shortest)
        return [TimedWord(word, round(s, 3), round(e, 3), round(p, 4))
                for word, (s, e), (_, _, p) in zip(words, spans, found)]

    def window(self, start: float, stop: float, tokens: Sequence[list[int]], words: Sequence[str]):
        """(start, end, probability) of each word aligned to pcm[start:stop] (at most 30 s), in seconds."""
        from faster_whisper.audio import pad_or_trim

        if self._encoded is None or self._encoded[0] != (start, stop):  # a retry with fewer words hears the same audio
            extractor = self.whisper.feature_extractor
            features = extractor(self.pcm[int(start * SAMPLE_RATE): int(stop * SAMPLE_RATE)])
            frames = min(features.shape[-1] - 1, extractor.nb_max_frames)
            encoded = self.whisper.encode(pad_or_trim(features[:, :frames])) if frames >= 2 else None
            self._encoded = ((start, stop), frames, encoded)
        _, frames, encoded = self._encoded
        flat = [token for word in tokens for token in word]
        if encoded is None or not flat:
            return [(start, start, 0.0)] * len(tokens)
        result = self.whisper.model.align(encoded, self.tokenizer.sot_sequence, [flat], frames,
                                          median_filter_width=MEDIAN_FILTER)[0]
        path = np.asarray(result.alignments).reshape(-1, 2)
        if len(path) == 0:
            return [(start, start, 0.0)] * len(tokens)
        text_index, time_index = path[:, 0], path[:, 1]
        jumps = np.pad(np.diff(text_index), (1, 0), constant_values=1).astype(bool)
        token_start = time_index[jumps] * TOKEN_SECONDS  # one per token, and one for <|endoftext|>
        probabilities = np.asarray(result.text_token_probs)
        out, k = [], 0
        for word_tokens, word in zip(tokens, words):
            n = len(word_tokens)
            core = [j for j in range(n) if not is_punctuation(self.tokenizer.decode([word_tokens[j]]))] or list(range(n))
            out.append((start + token_start[k + core[0]], start + token_start[k + core[-1] + 1],
                        float(np.mean(probabilities[k:k + n])) if n else 0.0))
            k += n
        return out

    def _skip_quiet(self, cursor: float) -> float:
        """Windows start just before sound: long pauses (or a music intro) are skipped."""
        ahead = np.flatnonzero(self.db[int(cursor * 100):] > self.threshold)
        return max(cursor, (int(cursor * 100) + ahead[0]) * 0.01 - LEAD) if len(ahead) else cursor

    def _onset(self, start: float, stop: float) -> float:
        """The first sound in [start, stop): the DTW path always begins at the window's first frame."""
        a = int(start * 100)
        b = max(int(stop * 100), a + 1)
        loud = np.flatnonzero(self.db[a:b] > self.threshold)
        return start if len(loud) == 0 else (a + loud[0]) * 0.01

    def _quietest(self, start: float, stop: float) -> float:
        if stop - start < 0.03:
            return (start + stop) / 2
        a, b = int(start * 100), int(stop * 100)
        return (a + quietest_frame(self.db[a:b])) * 0.01


def _units(words: Sequence[str], sentences: list[tuple[int, int]], seconds_per_char: float, longest: float,
           tokens: Sequence[int]) -> list[_Unit]:
    """Sentences; one estimated longer than `longest` seconds (or of more than MAX_TOKENS / 2 tokens) is split at
    a comma past its middle, else before it would overflow."""
    units = []
    most = MAX_TOKENS // 2
    for first, end in sentences:
        chars = sum(len(word) + 1 for word in words[first:end])
        count = sum(tokens[first:end])
        if chars * seconds_per_char <= longest and count <= most:
            units.append(_Unit(first, end, chars, count))
            continue
        start, held, held_tokens = first, 0, 0
        for j in range(first, end):
            held += len(words[j]) + 1
            held_tokens += tokens[j]
            soft = words[j].endswith((",", ";", ":")) and (held * seconds_per_char > longest / 2 or held_tokens > most / 2)
            if (j == end - 1 or soft or (held + len(words[j + 1]) + 1) * seconds_per_char > longest
                    or held_tokens + tokens[j + 1] > most):
                units.append(_Unit(start, j + 1, held, held_tokens))
                start, held, held_tokens = j + 1, 0, 0
    return units


def _monotonic(spans: list[tuple[float, float]], duration: float, shortest: float = MIN_WORD) -> list[tuple[float, float]]:
    """Each word after the previous one, inside [0, duration], and at least `shortest` long (callers make sure
    that len(spans) * shortest fits in the duration)."""
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    previous = 0.0
    for i in range(len(spans)):
        starts[i] = max(starts[i], previous)
        ends[i] = max(ends[i], starts[i] + shortest)
        previous = ends[i]
    following = duration
    for i in range(len(spans) - 1, -1, -1):
        ends[i] = min(ends[i], following)
        starts[i] = min(starts[i], ends[i] - shortest)
        following = starts[i]
    return list(zip(starts, ends))


def _snap(spans: list[tuple[float, float]], islands: list[tuple[float, float]], max_snap: float) -> list[tuple[float, float]]:
    """Word edges next to a pause moved onto the energy edges of that pause.

    Each word belongs to the stretch of sound nearest its centre; the first word of a stretch starts at its onset
    and the last one ends at its offset (when that moves the edge by at most `max_snap`); the words between are
    kept inside the stretch."""
    if not islands or not spans:
        return spans
    starts = np.array([island[0] for island in islands])
    ends = np.array([island[1] for island in islands])
    out = list(spans)
    owner = []
    for s, e in spans:
        centre = (s + e) / 2
        distance = np.where(centre < starts, starts - centre, np.where(centre > ends, centre - ends, 0.0))
        owner.append(int(np.argmin(distance)))
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and owner[j + 1] == owner[i]:
            j += 1
        left, right = islands[owner[i]]
        if abs(out[i][0] - left) <= max_snap:
            out[i] = (left, out[i][1])
        if abs(out[j][1] - right) <= max_snap:
            out[j] = (out[j][0], right)
        for m in range(i, j + 1):
            s, e = out[m]
            out[m] = (min(max(s, left), right), min(max(e, left), right))
        i = j + 1
    return out
