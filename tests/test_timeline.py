"""The timeline stage without rendering: frame sizes, and scene lengths by the one rule resolve, the estimate and the
editor share (`reelforge.document.lengths`)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from reelforge.document.estimate import document_seconds, estimate_scenes, scenes_seconds
from reelforge.document.lengths import scene_track, video_frames
from reelforge.document.loader import load_document, validate_data
from reelforge.resolve.resolver import resolve_document
from reelforge.timebase import Rate
from reelforge.timeline.compile import compile_timeline, frame_size
from reelforge.workspace import Workspace

FPS = 30


FULL_SIZE = {
    ("16:9", "720p"): (1280, 720), ("16:9", "1080p"): (1920, 1080), ("16:9", "4k"): (3840, 2160),
    ("9:16", "720p"): (720, 1280), ("9:16", "1080p"): (1080, 1920), ("9:16", "4k"): (2160, 3840),
    ("1:1", "720p"): (720, 720), ("1:1", "1080p"): (1080, 1080), ("1:1", "4k"): (2160, 2160),
    ("4:5", "720p"): (720, 900), ("4:5", "1080p"): (1080, 1350), ("4:5", "4k"): (2160, 2700),
}


def draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """Half of each side, rounded down to even (H.264 4:2:0)."""
    return tuple(side // 2 // 2 * 2 for side in size)  # type: ignore[return-value]


def color_document(aspect: str, resolution: str, quality: str, seconds: float = 1) -> dict:
    return {"version": "1", "name": "Size", "output": {"aspectRatio": aspect, "resolution": resolution, "quality": quality},
            "scenes": [{"id": "only", "duration": seconds, "visual": {"type": "color", "color": "#336699"}}]}


@pytest.mark.parametrize("quality", ["draft", "web", "studio"])
@pytest.mark.parametrize(("aspect", "resolution"), list(FULL_SIZE), ids=[f"{a}-{r}" for a, r in FULL_SIZE])
def test_every_aspect_and_resolution_compiles_to_its_frame_size(aspect: str, resolution: str, quality: str,
                                                              tmp_path: Path):
    loaded = load_document(color_document(aspect, resolution, quality))
    full = FULL_SIZE[(aspect, resolution)]
    assert loaded.document.output.frame_size() == full
    expected = draft_size(full) if quality == "draft" else full
    resolved = resolve_document(loaded, Workspace(tmp_path))
    assert frame_size(resolved) == expected
    timeline = compile_timeline(resolved)
    assert (timeline.width, timeline.height) == expected
    assert timeline.frames == FPS




# -- scene lengths: one rule ----------------------------------------------------------------------------------


def scenes_document(**changes) -> dict:
    return {"version": "1", "name": "Lengths", "scenes": [
        {"id": "a", "narration": {"text": "One two three four five."}, "padding": 0.5,
         "transition": {"type": "crossfade", "duration": 0.5}, "visual": {"type": "color", "color": "#112233"}},
        {"id": "b", "duration": 2, "transition": {"type": "slide_left", "duration": 0.4},
         "visual": {"type": "color", "color": "#445566"}},
        {"id": "c", "narration": {"text": "Six seven."}, "visual": {"type": "color", "color": "#778899"}},
    ], **changes}


def test_an_auto_scene_lasts_its_speech_padding_and_transition_out_in_whole_frames():
    document = validate_data(scenes_document())
    rate = Rate.of(30)
    track = scene_track(document.scenes, [Fraction(21, 10), None, Fraction(1)], rate)
    assert track.frames == (-(-(Fraction(21, 10) + Fraction(1, 2) + Fraction(1, 2)) * 30 // 1), 60, 42)
    assert track.transitions == (15, 12, 0)
    assert track.starts == (0, track.frames[0] - 15, track.frames[0] - 15 + 60 - 12)
    assert track.end == track.starts[2] + 42


def test_a_transition_longer_than_a_scene_it_joins_is_shortened_and_one_of_a_frame_is_a_cut():
    document = validate_data(scenes_document())
    rate = Rate.of(30)
    short = scene_track(document.scenes, [Fraction(0), None, Fraction(0)], rate)
    assert short.frames[0] == 30  # padding 0.5 + transition 0.5
    assert short.transitions[0] == 15
    tiny = validate_data(scenes_document(scenes=[
        {"id": "a", "duration": 1, "transition": {"type": "crossfade", "duration": 0.1},
         "visual": {"type": "color", "color": "#112233"}},
        {"id": "b", "duration": 0.05, "visual": {"type": "color", "color": "#445566"}}]))  # 2 frames
    assert scene_track(tiny.scenes, [None, None], rate).transitions == (0, 0)  # 1 frame at most: a cut


def test_the_estimate_lays_scenes_out_by_the_renderers_rule():
    document = validate_data(scenes_document())
    estimates = estimate_scenes(document)
    known = {0: Fraction(21, 10), 2: Fraction(1)}
    exact = estimate_scenes(document, known)
    track = scene_track(document.scenes, [known[0], None, known[2]], Rate.of(30))
    assert [e.seconds for e in exact] == [frames / 30 for frames in track.frames]
    assert [e.fixed for e in estimates] == [False, True, False]
    assert scenes_seconds(document, known) == track.end / 30
    assert document_seconds(document, known) == track.end / 30


def test_a_fixed_document_duration_cuts_or_extends_and_blocks_extend_the_video():
    rate = Rate.of(30)
    blocks = [{"type": "text", "start": 9, "duration": 2, "text": "late"}]
    longer = validate_data(scenes_document(blocks=blocks))
    track = scene_track(longer.scenes, [Fraction(2), None, Fraction(1)], rate)
    assert video_frames(longer, track, rate) == 11 * 30  # the block ends after the scenes
    fixed = validate_data(scenes_document(blocks=blocks, duration=10))
    assert video_frames(fixed, track, rate) == 300  # the fixed duration cuts the block
    assert document_seconds(fixed, {0: Fraction(2), 2: Fraction(1)}) == 10.0


def test_resolve_and_compile_use_the_same_rule(tmp_path: Path):
    """A document without narration: resolve's lengths are the estimate's to the frame."""
    document = scenes_document()
    for scene in document["scenes"]:
        scene.pop("narration", None)
        scene.setdefault("duration", 2.5)
    document["blocks"] = [{"type": "text", "start": 1, "duration": 9, "text": "long"}]
    loaded = load_document(document)
    timeline = compile_timeline(resolve_document(loaded, Workspace(tmp_path)))
    assert [layer.range.duration for layer in timeline.scenes] == [round(e.seconds * 30) for e in estimate_scenes(loaded.document)]
    assert timeline.frames == round(document_seconds(loaded.document) * 30) == 300


# --- caption lines: a minimum time on screen per style ---------------------------------------------------


def timed(*spoken: tuple[str, float, float]):
    from reelforge.speech import WordTiming

    return [WordTiming(text, Fraction(str(start)), Fraction(str(end))) for text, start, end in spoken]


def lines(groups) -> list[tuple[str, float, float]]:
    return [(group.text, float(group.start), float(group.end)) for group in groups]


FAST_START = timed(("The", 0, 0.1), ("sea", 0.12, 0.25), ("is", 0.27, 0.4), ("wide", 0.42, 0.8),
                   ("and", 0.82, 1.1), ("deep.", 1.12, 1.5))


def test_a_caption_line_spoken_faster_than_the_minimum_takes_in_the_next_line_of_its_sentence():
    from reelforge.timeline.captions import group_words

    # Without a minimum, "The sea" shows for 0.27 s (it goes when "is" starts): the flash the minimum prevents.
    assert lines(group_words(FAST_START, 2, Fraction(10))) == [
        ("The sea", 0.0, 0.27), ("is wide", 0.27, 0.82), ("and deep.", 0.82, 1.75)]
    assert lines(group_words(FAST_START, 2, Fraction(10), Fraction(1, 2))) == [
        ("The sea is wide", 0.0, 0.82), ("and deep.", 0.82, 1.75)]


def test_a_short_line_at_a_sentence_end_joins_the_line_before_it():
    from reelforge.timeline.captions import group_words

    words = timed(("Go", 0, 0.4), ("now", 0.45, 0.9), ("fast.", 0.92, 1.0), ("Then", 1.02, 1.5), ("rest.", 1.55, 2.0))
    assert lines(group_words(words, 2, Fraction(10), Fraction(1, 2))) == [
        ("Go now fast.", 0.0, 1.02), ("Then rest.", 1.02, 2.25)]


def test_a_one_word_sentence_cannot_merge_so_it_stays_the_minimum_before_a_pause():
    from reelforge.timeline.captions import group_words

    words = timed(("Yes.", 0, 0.2), ("Then", 1.5, 1.9), ("more.", 1.95, 2.4))
    assert lines(group_words(words, 2, Fraction(10), Fraction(1, 2))) == [
        ("Yes.", 0.0, 0.5), ("Then more.", 1.5, 2.65)]
    # ... but never past the next line, which starts 0.3 s later here.
    words = timed(("Yes.", 0, 0.2), ("Then", 0.3, 0.6), ("more.", 0.65, 1.4))
    assert lines(group_words(words, 2, Fraction(10), Fraction(1, 2)))[0] == ("Yes.", 0.0, 0.3)


def test_a_merged_line_holds_at_most_twice_the_styles_words():
    from reelforge.timeline.captions import group_words

    words = timed(*[(f"w{n}", n / 10, n / 10 + 0.08) for n in range(8)])
    assert [group.text for group in group_words(words, 2, Fraction(10), Fraction(1, 2))] == [
        "w0 w1 w2 w3", "w4 w5 w6 w7"]


def test_a_sentences_lines_do_not_depend_on_when_the_next_sentence_starts():
    """W's scene 3 before and after its second sentence was edited: the same first sentence, the next one starting
    12 ms later. Its last line ("decades.", on screen until the next line) showed 0.743 s, under bold_pop's 0.75 s,
    and was merged into the line before; 12 ms later it was not, so the edit changed the first sentence's captions
    and every cached piece showing them."""
    from reelforge.timeline.captions import group_words

    first = [("studio", 2.3568, 2.7864), ("monitors", 2.8212, 3.2740), ("for", 3.3088, 3.4366),
             ("decades.", 3.4946, 4.0403)]
    texts = []
    for next_start in (4.2376, 4.2493):
        words = timed(*first, ("Engineers", next_start, next_start + 0.53), ("still", next_start + 0.6, 5.1),
                      ("trust", 5.15, 5.4), ("it.", 5.45, 5.7))
        groups = group_words(words, 3, Fraction(10), Fraction(3, 4))
        # (the last line still shows until the next one starts: its end is the next sentence's business)
        texts.append([(group.text, group.start) for group in groups if group.words[0].start < next_start])
    assert texts[0] == texts[1]
    assert [text for text, _ in texts[0]] == ["studio monitors for", "decades."]


def test_a_cut_moves_to_a_sentences_start_within_the_snap():
    from reelforge.renderers.ffmpeg.segments import _grid

    assert _grid(0, 200, 120) == [(0, 120), (120, 200)]
    assert _grid(0, 200, 120, [115], 30) == [(0, 115), (115, 200)]  # 5 frames early
    assert _grid(0, 220, 120, [141], 30) == [(0, 141), (141, 220)]  # 21 late
    assert _grid(0, 200, 120, [60, 160], 30) == [(0, 120), (120, 200)]  # neither is within 30 frames of 120
    assert _grid(0, 200, 120, [110, 125], 30) == [(0, 125), (125, 200)]  # the nearer
    assert _grid(0, 300, 120, [140], 30) == [(0, 140), (140, 300)]  # the grid goes on from the moved cut
    assert _grid(0, 130, 120, [135], 30) == [(0, 130)]  # a break past the end takes no cut
    assert _grid(0, 160, 120, [125], 30) == [(0, 160)]  # nor one that leaves a piece under half the grid


def test_a_line_going_on_after_a_segment_is_cut_at_its_end_unless_its_look_depends_on_its_end():
    from reelforge.renderers.ffmpeg.video import _ending_by
    from reelforge.timebase import FrameRange
    from reelforge.timeline import TextEvent

    def ends(text: str) -> int:
        return _ending_by(TextEvent(FrameRange(10, 100), "caption", text), 50).range.end

    assert ends("{\\fscx80\\fscy80\\t(0,90,\\fscx100\\fscy100)}bold pop") == 50  # timed from its start
    assert ends("{\\fad(60,0)}fades in only") == 50
    assert ends("{\\an5\\pos(540,200)\\fad(150,150)}fades out too") == 110
    assert ends("{\\t(\\fscx120)}grows all along") == 110
    assert ends("{\\move(0,0,100,100)}moves all along") == 110
    assert _ending_by(TextEvent(FrameRange(10, 20), "caption", "ends inside"), 50).range.end == 30


def test_karaoke_cues_are_never_shorter_than_half_a_second_where_a_merge_is_possible():
    from reelforge.model import Captions
    from reelforge.timeline.captions import scene_captions

    rate = Rate.of(FPS)
    karaoke = Captions(style="karaoke_neon")
    assert karaoke.min_cue_seconds() == 0.5
    assert Captions(style="bold_pop").min_cue_seconds() == 0.75
    assert Captions(style="minimal_white").min_cue_seconds() == 1.0
    assert Captions(style="bold_pop", words_per_line=6).min_cue_seconds() == 1.5
    _events, cues = scene_captions(tuple(FAST_START), karaoke, rate, 0, 60, "scene")
    assert [(cue.text, cue.range.start, cue.range.duration) for cue in cues] == [
        ("The sea is wide", 0, 25), ("and deep.", 25, 28)]
    assert min(cue.range.duration for cue in cues) >= 15  # 0.5 s at 30 fps
    _events, plain = scene_captions(tuple(FAST_START), Captions(style="minimal_white", words_per_line=2), rate, 0,
                                    60, "scene")
    assert Captions(style="minimal_white", words_per_line=2).min_cue_seconds() == 0.5  # 1 s for 4 words: 1/4 s a word
    assert [cue.text for cue in plain] == ["The sea is wide", "and deep."]
