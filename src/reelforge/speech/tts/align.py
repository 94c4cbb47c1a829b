"""Mapping the phonemes piper spoke back to the written words, to time every word in samples.

espeak phonemizes whole clauses, so its output does not split where the text does: it joins
words ("of the" -> "ʌvðɪʲ"), expands one written token into several words ("$1,200" -> "dˈɑːlɚ
wˈʌn θˈaʊzənd tˈuːhˈʌndɹɪd") and may reorder them ("€5" -> "euros five"). So word boundaries are
found by aligning two phoneme strings:

- the *reference*: each written token phonemized on its own, tokens separated by a boundary mark;
- the *spoken* phonemes of the whole text, each with its exact sample range, with a boundary mark
  at every space, punctuation mark and sentence break.

A weighted edit distance (Needleman-Wunsch) aligns them letter by letter. Equal letters cost
nothing, vowel for vowel is cheap (context changes "the" from ðə to ðɪ), a boundary matches only
a boundary, and an unmatched boundary is cheap: that is how joined and split words are absorbed.
Each spoken letter takes the token of the reference letter it is aligned with; the few unaligned
ones take their spoken word's token; stress marks go with the next letter, length marks with the
previous one. Because the alignment is monotonic, tokens get ordered, non-overlapping sample
ranges: from the first sample of their first phoneme to the last sample of their last. Pauses
(spaces, punctuation, sentence ends) fall between words. A token with nothing spoken ("—") gets
the pause between its neighbours.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Protocol

import numpy as np

_BOUNDARY = 0
_VOWELS = frozenset("aeiouyæøœɐɑɒɔəɘɚɛɜɝɞɤɨɪɯɵɶʉʊʌʏᵻɩ")
_STRESS = frozenset("ˈˌ")

# Costs in integer units so that ties compare exactly.
_GAP_LETTER = 20
_GAP_BOUNDARY = 5
_SUB_VOWELS = 12
_SUB_CONSONANTS = 18
_SUB_MIXED = 28
_FORBIDDEN = 10**6

_DIAG, _UP, _LEFT = 0, 1, 2


class Timed(Protocol):
    phoneme: str
    start: int
    end: int
    sentence: int


def word_spans(references: Sequence[str], spoken: Sequence[Timed]) -> list[tuple[int, int]]:
    """For each token (given by its reference phonemes), the samples [start, end) in which it is spoken."""
    ref_codes, ref_tokens = _reference_items(references)
    kinds = [_kind(item.phoneme) for item in spoken]
    spoken_codes, spoken_owner = _spoken_items(spoken, kinds)
    labels = _align(ref_codes, ref_tokens, spoken_codes, spoken_owner)
    phoneme_tokens: list[int | None] = [None] * len(spoken)
    for owner, token in zip(spoken_owner, labels):
        if owner >= 0 and token is not None and phoneme_tokens[owner] is None:
            phoneme_tokens[owner] = token
    _fill_within_words(phoneme_tokens, kinds, spoken)
    return _spans(len(references), phoneme_tokens, spoken)


# --- alignment items -------------------------------------------------------------------------

_LETTER, _MODIFIER, _SEPARATOR = "letter", "modifier", "separator"
_VOWEL_CODES = frozenset(ord(char) for char in _VOWELS)


def _code(char: str) -> int:
    return ord(char)  # never 0, the boundary


def _char_kind(char: str) -> str:
    category = unicodedata.category(char)
    if char.isspace() or category.startswith("P"):
        return _SEPARATOR
    if category in ("Ll", "Lu", "Lo", "Lt") or category.startswith("N"):
        return _LETTER
    return _MODIFIER  # stress and length marks, ʲ ʰ, combining diacritics, intonation arrows


def _kind(phoneme: str) -> str:
    kinds = {_char_kind(char) for char in phoneme}
    if _LETTER in kinds:
        return _LETTER
    return _SEPARATOR if kinds == {_SEPARATOR} or not kinds else _MODIFIER


def _reference_items(references: Sequence[str]) -> tuple[list[int], list[int | None]]:
    """Letters of every token's phonemes, with a boundary between tokens and between a token's own words."""
    codes: list[int] = []
    tokens: list[int | None] = []
    for token, reference in enumerate(references):
        for char in unicodedata.normalize("NFD", reference):
            kind = _char_kind(char)
            if kind == _LETTER:
                codes.append(_code(char))
                tokens.append(token)
            elif kind == _SEPARATOR:
                _add_boundary(codes, tokens)
        _add_boundary(codes, tokens)
    return codes, tokens


def _spoken_items(spoken: Sequence[Timed], kinds: Sequence[str]) -> tuple[list[int], list[int]]:
    """Letters of the spoken phonemes (owner = phoneme index), with a boundary at pauses and sentence breaks."""
    codes: list[int] = []
    owners: list[int] = []
    previous_sentence = None
    for index, (item, kind) in enumerate(zip(spoken, kinds)):
        if previous_sentence is not None and item.sentence != previous_sentence:
            _add_boundary(codes, owners, -1)
        previous_sentence = item.sentence
        if kind == _SEPARATOR:
            _add_boundary(codes, owners, -1)
        elif kind == _LETTER:
            for char in item.phoneme:
                if _char_kind(char) == _LETTER:
                    codes.append(_code(char))
                    owners.append(index)
    return codes, owners


def _add_boundary(codes: list[int], labels: list, label=None) -> None:
    if codes and codes[-1] != _BOUNDARY:
        codes.append(_BOUNDARY)
        labels.append(label)


# --- Needleman-Wunsch ------------------------------------------------------------------------


def _align(
    ref_codes: list[int], ref_tokens: list[int | None], spoken_codes: list[int], spoken_owner: list[int]
) -> list[int | None]:
    """For each spoken item, the token of the reference item aligned with it (None if unaligned)."""
    n, m = len(ref_codes), len(spoken_codes)
    labels: list[int | None] = [None] * m
    if n == 0 or m == 0:
        return labels
    spoken = np.array(spoken_codes, dtype=np.int64)
    spoken_vowel = np.array([_is_vowel_code(code) for code in spoken_codes])
    spoken_boundary = spoken == _BOUNDARY
    insert_cost = np.where(spoken_boundary, _GAP_BOUNDARY, _GAP_LETTER).astype(np.int64)
    cumulative_insert = np.concatenate(([0], np.cumsum(insert_cost)))
    substitution_rows: dict[int, np.ndarray] = {}

    previous = cumulative_insert.copy()  # row 0: every spoken item inserted
    pointers = np.empty((n, m + 1), dtype=np.uint8)
    for i, code in enumerate(ref_codes):
        delete_cost = _GAP_BOUNDARY if code == _BOUNDARY else _GAP_LETTER
        if code not in substitution_rows:
            substitution_rows[code] = _substitution_row(code, spoken, spoken_vowel, spoken_boundary)
        diagonal = previous[:-1] + substitution_rows[code]
        up = previous[1:] + delete_cost
        best = np.empty(m + 1, dtype=np.int64)
        best[0] = previous[0] + delete_cost
        best[1:] = np.minimum(diagonal, up)
        choice = np.empty(m + 1, dtype=np.uint8)
        choice[0] = _UP
        choice[1:] = np.where(diagonal <= up, _DIAG, _UP)
        # Moving left (inserting spoken items) chains within the row: solve it with a running minimum.
        current = np.minimum.accumulate(best - cumulative_insert) + cumulative_insert
        pointers[i] = np.where(current < best, _LEFT, choice)
        previous = current

    i, j = n, m
    while i > 0 and j > 0:
        step = pointers[i - 1, j]
        if step == _DIAG:
            labels[j - 1] = ref_tokens[i - 1]
            i, j = i - 1, j - 1
        elif step == _UP:
            i -= 1
        else:
            j -= 1
    return labels


def _is_vowel_code(code: int) -> bool:
    return code in _VOWEL_CODES


def _substitution_row(code: int, spoken: np.ndarray, spoken_vowel: np.ndarray, spoken_boundary: np.ndarray) -> np.ndarray:
    if code == _BOUNDARY:
        return np.where(spoken_boundary, 0, _FORBIDDEN).astype(np.int64)
    vowel = _is_vowel_code(code)
    row = np.where(spoken_vowel == vowel, _SUB_VOWELS if vowel else _SUB_CONSONANTS, _SUB_MIXED).astype(np.int64)
    row[spoken == code] = 0
    row[spoken_boundary] = _FORBIDDEN
    return row


# --- from aligned letters to word spans ------------------------------------------------------


def _fill_within_words(tokens: list[int | None], kinds: Sequence[str], spoken: Sequence[Timed]) -> None:
    """Give every letter and mark a token: unaligned letters from their spoken word, then skipped words, then marks."""
    words = _spoken_words(kinds, spoken)
    for word in words:
        _fill_letters_from_word(tokens, [i for i in word if kinds[i] == _LETTER])
    _fill_skipped_words(tokens, kinds)
    for word in words:
        _attach_marks(tokens, kinds, spoken, word)


def _fill_letters_from_word(tokens: list[int | None], letters: list[int]) -> None:
    """An unaligned letter takes the token of the aligned letter before it in its spoken word, else after it."""
    last: int | None = None
    for index in letters:
        if tokens[index] is None:
            tokens[index] = last
        last = tokens[index]
    following: int | None = None
    for index in reversed(letters):
        if tokens[index] is None:
            tokens[index] = following
        following = tokens[index]


def _fill_skipped_words(tokens: list[int | None], kinds: Sequence[str]) -> None:
    """A spoken word with no aligned letter at all goes with the token spoken before it (or after, at the start)."""
    letters = [i for i, kind in enumerate(kinds) if kind == _LETTER]
    _fill_letters_from_word(tokens, letters)


def _attach_marks(tokens: list[int | None], kinds: Sequence[str], spoken: Sequence[Timed], word: list[int]) -> None:
    """Stress marks go with the next letter of their spoken word; length and other marks with the previous one."""
    for position, index in enumerate(word):
        if kinds[index] != _MODIFIER:
            continue
        later = [tokens[i] for i in word[position + 1 :] if kinds[i] == _LETTER][:1]
        earlier = [tokens[i] for i in word[:position] if kinds[i] == _LETTER][-1:]
        first, second = (later, earlier) if spoken[index].phoneme in _STRESS else (earlier, later)
        tokens[index] = (first or second or [None])[0]


def _spoken_words(kinds: Sequence[str], spoken: Sequence[Timed]) -> list[list[int]]:
    """Runs of phoneme indices between pauses and sentence breaks."""
    words: list[list[int]] = []
    current: list[int] = []
    for index, kind in enumerate(kinds):
        if current and spoken[index].sentence != spoken[current[-1]].sentence:
            words.append(current)
            current = []
        if kind == _SEPARATOR:
            if current:
                words.append(current)
            current = []
        else:
            current.append(index)
    if current:
        words.append(current)
    return words


def _spans(count: int, tokens: Sequence[int | None], spoken: Sequence[Timed]) -> list[tuple[int, int]]:
    starts: list[int | None] = [None] * count
    ends: list[int | None] = [None] * count
    for token, item in zip(tokens, spoken):
        if token is None:
            continue
        starts[token] = item.start if starts[token] is None else min(starts[token], item.start)
        ends[token] = item.end if ends[token] is None else max(ends[token], item.end)
    return _fill_silent(starts, ends)


def _fill_silent(starts: list[int | None], ends: list[int | None]) -> list[tuple[int, int]]:
    """Tokens nothing was spoken for share the pause between the spoken tokens around them."""
    spans: list[tuple[int, int]] = []
    index = 0
    count = len(starts)
    while index < count:
        start, end = starts[index], ends[index]
        if start is not None and end is not None:
            spans.append((start, end))
            index += 1
            continue
        run_end = index
        while run_end < count and starts[run_end] is None:
            run_end += 1
        before = spans[-1][1] if spans else None
        after = starts[run_end] if run_end < count else None
        low = before if before is not None else (after if after is not None else 0)
        high = after if after is not None else low
        silent = run_end - index
        for k in range(silent):
            spans.append((low + (high - low) * k // silent, low + (high - low) * (k + 1) // silent))
        index = run_end
    return spans
