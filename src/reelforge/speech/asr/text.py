"""Words of a transcript as the aligner needs them: sentences, punctuation, numbers in their spoken form; and
the word error rate used to measure recognition."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

ABBREVIATIONS = frozenset({
    "dr.", "mr.", "mrs.", "ms.", "st.", "prof.", "jr.", "sr.", "vs.", "etc.", "e.g.", "i.e.", "a.m.", "p.m.",
    "no.", "inc.", "ltd.", "co.", "mt.", "jan.", "feb.", "mar.", "apr.", "aug.", "sep.", "sept.", "oct.", "nov.",
    "dec.",
})
_PUNCT = frozenset(string.punctuation) | frozenset("“”‘’«»…–—¿¡")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def is_punctuation(text: str) -> bool:
    """Whether `text` (a token, spaces aside) is nothing but punctuation."""
    text = text.strip()
    return bool(text) and all(character in _PUNCT for character in text)


def ends_sentence(word: str) -> bool:
    """Whether a written word ends a sentence ('.', '!', '?', '…'; not an abbreviation such as 'Dr.')."""
    return bool(_SENTENCE_END.search(word)) and word.lower().strip("\"'“”()") not in ABBREVIATIONS


def split_sentences(words: Sequence[str], line_ends: Sequence[bool] = ()) -> list[tuple[int, int]]:
    """Word index ranges [start, end) of the sentences of `words`; a line end (when given) also ends one."""
    ranges, first = [], 0
    for index, word in enumerate(words):
        if (line_ends and line_ends[index]) or ends_sentence(word):
            ranges.append((first, index + 1))
            first = index + 1
    if first < len(words):
        ranges.append((first, len(words)))
    return ranges


# --- numbers as they are said --------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
             "nine": "ninth", "twelve": "twelfth"}
_NUMBER = re.compile(r"^(?P<pre>[^\w$£€]*)(?P<cur>[$£€]?)(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
                     r"(?P<suf>st|nd|rd|th|%|s)?(?P<post>\W*)$")
_CLOCK = re.compile(r"^(?P<pre>\W*)(?P<h>\d{1,2}):(?P<m>\d{2})(?P<post>\W*)$")
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}


def _integer_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _integer_words(rest))
    for value, name in _SCALES:
        if n >= value:
            rest = n % value
            return _integer_words(n // value) + " " + name + ("" if rest == 0 else " " + _integer_words(rest))
    return str(n)


def _year_words(n: int) -> str:
    high, low = divmod(n, 100)
    if low == 0:
        return _integer_words(high) + " hundred"
    return _integer_words(high) + " " + ("oh " + _ONES[low] if low < 10 else _integer_words(low))


def _ordinal_words(n: int) -> str:
    words = _integer_words(n).split()
    last = words[-1]
    words[-1] = _ORDINALS.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(words)


def spoken_form(word: str) -> str:
    """How a written number is said: "1,200" -> "one thousand two hundred", "1987" -> "nineteen eighty seven",
    "9:30" -> "nine thirty", "3rd" -> "third", "$7" -> "seven dollars", "42%" -> "forty two percent". Anything
    else comes back unchanged. Only the aligner's tokens use it: digits have few tokens and a diffuse attention,
    words align better. The words shown stay as written."""
    match = _CLOCK.match(word)
    if match:
        hours, minutes = int(match["h"]), int(match["m"])
        said = "o'clock" if minutes == 0 else ("oh " + _ONES[minutes] if minutes < 10 else _integer_words(minutes))
        return f"{match['pre']}{_integer_words(hours)} {said}{match['post']}"
    match = _NUMBER.match(word)
    if not match:
        return word
    number, suffix, currency = match["num"], match["suf"] or "", match["cur"]
    whole, _, fraction = number.partition(".")
    grouped = "," in whole
    whole = whole.replace(",", "")
    n = int(whole)
    if suffix in ("st", "nd", "rd", "th"):
        said = _ordinal_words(n)
    elif not grouped and not fraction and not currency and len(whole) == 4 and 1100 <= n <= 2099 and n % 1000 >= 10:
        said = _year_words(n)
        if suffix == "s":
            said = said[:-1] + "ies" if said.endswith("y") else said + "s"
    else:
        said = _integer_words(n)
        if fraction:
            said += " point " + " ".join(_ONES[int(digit)] for digit in fraction)
        if suffix == "%":
            said += " percent"
        if currency:
            said += " " + _CURRENCY[currency]
    return f"{match['pre']}{said}{match['post']}"


# --- word error rate -----------------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^\w\s']")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("1,200" -> "1200", hyphens split), for comparing transcripts."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=\d),(?=\d)", "", text)
    text = _NOT_WORD.sub(" ", text.replace("-", " "))
    return [word.strip("'") for word in text.split() if word.strip("'")]


def word_error_rate(reference: str, hypothesis: str) -> tuple[float, int, int]:
    """(errors / reference words, errors, reference words): the Levenshtein distance over normalized words."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        current = [i] + [0] * len(hyp)
        for j in range(1, len(hyp) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref[i - 1] != hyp[j - 1]))
        previous = current
    errors = previous[-1]
    return errors / max(len(ref), 1), errors, len(ref)
