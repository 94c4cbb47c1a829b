"""`reelforge new --from-text`: plain-text and Markdown scripts become valid scene projects."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelforge.document.estimate import count_words, document_seconds
from reelforge.document.loader import load_document, validate_data
from reelforge.editing.script_import import (
    GRADIENTS,
    MAX_SCENE_WORDS,
    TITLE_CARD_SECONDS,
    ScriptError,
    document_from_script,
    inline_to_text,
    parse_script,
    read_script,
    slugify,
    split_narration,
    split_sentences,
)
from reelforge.errors import DocumentError, ReelforgeError
from reelforge.model.scene import SCENE_ID_PATTERN

ID = re.compile(SCENE_ID_PATTERN)


def narrations(document) -> list[str]:
    return [scene.narration.text for scene in document.scenes if scene.narration]


def card(scene):
    return scene.visual.card if scene.visual.type == "card" else None


# --- structure ---------------------------------------------------------------------------------------------

def test_one_scene_per_paragraph_lines_joined_across_hard_breaks():
    script = "First line\nsame paragraph,  \nstill the same\\\nparagraph.\n\nSecond paragraph.\n"
    document = document_from_script(script, name="Demo")
    assert narrations(document) == ["First line same paragraph, still the same paragraph.", "Second paragraph."]


def test_plain_text_with_indented_and_crlf_paragraphs_is_all_narration():
    script = "    Indented first paragraph.\r\n\r\n\tTabbed second paragraph.\r\n"
    assert narrations(document_from_script(script, name="Plain")) == ["Indented first paragraph.", "Tabbed second paragraph."]


def test_headings_title_the_next_scene_and_show_over_its_background():
    script = "# Ocean facts\n\nIntro words.\n\n## Fact one\n\nThe ocean is big.\n\nMore about it.\n"
    document = document_from_script(script, name="Given name")
    first, second, third = document.scenes
    assert (first.title, second.title, third.title) == ("Ocean facts", "Fact one", None)
    assert second.overlays[0].text == "Fact one"
    assert not third.overlays
    assert [s.visual.type for s in document.scenes] == ["gradient"] * 3


def test_setext_headings():
    blocks = parse_script("Big title\n=========\n\nText.\n\nSmaller\n---\n\nMore text.\n")
    assert [(b.kind, b.level, b.text) for b in blocks] == [
        ("heading", 1, "Big title"), ("paragraph", 0, "Text."), ("heading", 2, "Smaller"), ("paragraph", 0, "More text."),
    ]


def test_thematic_break_and_hashtag_are_not_headings():
    blocks = parse_script("#hashtag is text\n\n---\n\n* * *\n\nAfter the break.\n")
    assert [(b.kind, b.text) for b in blocks] == [("paragraph", "#hashtag is text"), ("paragraph", "After the break.")]


def test_heading_only_sections_become_silent_title_cards():
    document = document_from_script("# Part one\n\n## Chapter A\n\nWords.\n\n## The end\n", name="x")
    intro, chapter, end = document.scenes
    assert card(intro).card == "title" and card(intro).title == "Part one"
    assert intro.narration is None and intro.duration == TITLE_CARD_SECONDS
    assert chapter.title == "Chapter A" and chapter.narration.text == "Words."
    assert card(end).title == "The end" and end.narration is None


def test_heading_before_a_list_is_its_own_title_card():
    document = document_from_script("## Three tips\n\n1. Sleep well.\n2. Eat well.\n", name="x")
    assert [card(s).card for s in document.scenes] == ["title", "list_item", "list_item"]
    assert card(document.scenes[0]).title == "Three tips"
    assert document.scenes[1].title is None


def test_document_name_from_first_h1_only_without_a_given_name():
    script = "# The *Real* Title\n\nText.\n"
    assert document_from_script(script).name == "The Real Title"
    assert document_from_script(script, name="From the CLI").name == "From the CLI"
    assert document_from_script("Text first.\n\n# Later heading\n", default_name="script").name == "script"
    assert document_from_script("## Only a level two\n\nText.\n", default_name="stem").name == "stem"


# --- lists and quotes --------------------------------------------------------------------------------------

def test_every_list_item_is_a_scene_and_numbers_count_up_like_markdown():
    script = "Intro.\n\n- bullet one\n  continued\n* bullet two\n+ [ ] a task\n\n3. third\n1. fourth\n1) fifth\n"
    document = document_from_script(script, name="x")
    assert narrations(document) == ["Intro.", "bullet one continued", "bullet two", "a task", "third", "fourth", "fifth"]
    numbers = [card(s).number for s in document.scenes if card(s) and card(s).card == "list_item"]
    assert numbers == [3, 4, 5]
    assert [s.visual.type for s in document.scenes[:4]] == ["gradient"] * 4


def test_list_item_continuation_after_blank_line_needs_indent():
    blocks = parse_script("1. First item\n\n   still the first item.\n\nA new paragraph.\n")
    assert [(b.kind, b.text) for b in blocks] == [("item", "First item still the first item."), ("paragraph", "A new paragraph.")]


def test_only_a_list_starting_at_one_interrupts_a_paragraph():
    blocks = parse_script("The moon landing was in\n1969. It was televised.\n")
    assert [b.kind for b in blocks] == ["paragraph"]


def test_list_item_card_headlines():
    script = (
        "1. **Hydrate.** Drink a glass of water first thing.\n"
        "2. Get sunlight: ten minutes before noon.\n"
        "3. Move.\n"
        "4. " + "Write down the one task that would make today a win, and do it before anything else at all. " * 2 + "\n"
    )
    titles = [card(s).title for s in document_from_script(script, name="x").scenes]
    assert titles[:3] == ["Hydrate", "Get sunlight", "Move"]
    assert len(titles[3]) <= 60 and titles[3].endswith("…")


def test_block_quote_becomes_a_quote_card_with_its_author():
    document = document_from_script("> Every second breath you take\n> comes from the ocean.\n> — Sylvia Earle\n", name="x")
    quote = card(document.scenes[0])
    assert quote.card == "quote"
    assert quote.quote == "Every second breath you take comes from the ocean."
    assert quote.author == "Sylvia Earle"
    assert document.scenes[0].narration.text == quote.quote


def test_hyphen_inside_a_quote_is_not_an_author():
    document = document_from_script("> Stay hungry - stay foolish.\n", name="x")
    assert card(document.scenes[0]).author is None


# --- inline Markdown ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("**bold** and *italic* and __strong__ and _em_", "bold and italic and strong and em"),
        ("a [link](https://example.com/a_(b)) here", "a link here"),
        ("a [reference][ref] link", "a reference link"),
        ("an ![image](pic.png) gone", "an gone"),
        ("code `print(*args)` kept", "code print(*args) kept"),
        ("snake_case_name and 2 * 3 * 4 stay", "snake_case_name and 2 * 3 * 4 stay"),
        ("~~struck~~ through", "struck through"),
        ("escaped \\*stars\\*", "escaped *stars*"),
        ("salt &amp; pepper<br>with <b>tags</b>", "salt & pepper with tags"),
        ("footnote[^1] gone", "footnote gone"),
        ("see <https://example.com>", "see https://example.com"),
    ],
)
def test_inline_markdown_to_spoken_text(markdown, spoken):
    assert inline_to_text(markdown) == spoken


def test_front_matter_comments_code_tables_and_definitions_are_left_out():
    script = (
        "---\ntitle: Not narrated\n---\n"
        "<!-- a note\nover two lines -->\n"
        "Spoken one.\n\n"
        "```python\nprint('not narrated')\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[ref]: https://example.com\n\n"
        "Spoken <!-- inline note --> two.\n"
    )
    assert narrations(document_from_script(script, name="x")) == ["Spoken one.", "Spoken two."]


def test_toml_front_matter_is_left_out():
    assert narrations(document_from_script("+++\ntitle = 'x'\n+++\nHello.\n", name="x")) == ["Hello."]


# --- long paragraphs ---------------------------------------------------------------------------------------

def test_sentences_split_before_capitals_not_after_abbreviations():
    text = "Dr. Smith arrived at 5 p.m. today. Was it late? Yes! It was 3.14 meters. The U.S. team won."
    assert split_sentences(text) == ["Dr. Smith arrived at 5 p.m. today.", "Was it late?", "Yes!", "It was 3.14 meters.", "The U.S. team won."]


def test_long_paragraph_splits_at_sentence_ends_into_even_scenes():
    sentence = "This sentence has exactly nine words in it here. "
    paragraph = (sentence * 15).strip()  # 135 words
    document = document_from_script(paragraph, name="x")
    texts = narrations(document)
    assert len(texts) == 3
    assert all(t.endswith(".") and count_words(t) <= MAX_SCENE_WORDS for t in texts)
    assert " ".join(texts) == paragraph
    assert max(map(count_words, texts)) - min(map(count_words, texts)) <= 9


def test_long_paragraph_under_a_heading_keeps_the_title_on_its_first_piece():
    document = document_from_script("## Topic\n\n" + "Short sentence here now. " * 30, name="x")
    assert document.scenes[0].title == "Topic"
    assert all(scene.title is None for scene in document.scenes[1:])


def test_a_sentence_longer_than_the_narration_limit_is_split_between_words():
    giant = " ".join(["word"] * 1500)  # 7499 characters, no sentence end
    pieces = split_narration(giant)
    assert all(len(p) <= 5000 for p in pieces)
    assert " ".join(pieces) == giant


# --- ids and visuals ---------------------------------------------------------------------------------------

def test_ids_are_slugs_of_titles_or_first_words_and_unique():
    script = "# Intro\n\nHello there.\n\nCafé crème: déjà vu!\n\nCafé crème again.\n\n日本語のテキスト。\n\n## Intro\n\nAgain.\n"
    ids = [s.id for s in document_from_script(script, name="x").scenes]
    assert ids == ["intro", "cafe-creme-deja-vu", "cafe-creme-again", "scene", "intro-2"]
    assert all(ID.match(i) for i in ids)


def test_slug_is_bounded():
    slug = slugify("Supercalifragilisticexpialidocious " * 5)
    assert ID.match(slug) and len(slug) <= 40


def test_gradients_alternate_through_the_palette():
    script = "\n\n".join(f"Paragraph {n}." for n in range(len(GRADIENTS) + 1))
    colors = [tuple(s.visual.colors) for s in document_from_script(script, name="x").scenes]
    assert colors == [GRADIENTS[n % len(GRADIENTS)] for n in range(len(GRADIENTS) + 1)]
    assert colors[0] != colors[1]


def test_scenes_crossfade_except_the_last():
    document = document_from_script("One.\n\nTwo.\n\nThree.\n", name="x")
    assert [s.transition.type if s.transition else None for s in document.scenes] == ["crossfade", "crossfade", None]


# --- settings and the result -------------------------------------------------------------------------------

def test_voice_and_aspect_ratio_are_applied_and_the_result_loads():
    document = document_from_script("Hello there.\n", name="x", aspect_ratio="16:9", voice_id="en_GB-alan-medium")
    assert document.output.aspect_ratio == "16:9"
    assert document.voice.voice_id == "en_GB-alan-medium"
    loaded = load_document(document)
    assert loaded.warnings == []
    # and the wire form validates again, as a saved project would
    assert validate_data(json.loads(json.dumps(document.to_json_dict()))) == document


def test_a_one_word_script_ends_on_a_pause_long_enough_for_a_valid_video():
    document = document_from_script("Hi.\n", name="x")
    assert document_seconds(document) >= 1.5
    assert document.scenes[0].padding > 0.4


def test_default_voice_is_left_unset():
    document = document_from_script("Hello.\n", name="x")
    assert "voice" not in document.to_json_dict()


def test_bad_voice_id_is_a_located_document_error():
    with pytest.raises(DocumentError) as raised:
        document_from_script("Hello.\n", name="x", voice_id="../evil")
    assert "voice.voiceId" in str(raised.value)


@pytest.mark.parametrize("script", ["", "   \n\n", "<!-- only a comment -->\n", "---\ntitle: x\n---\n", "![img](a.png)\n"])
def test_a_script_with_nothing_to_narrate_is_a_clear_error(script):
    with pytest.raises(ScriptError, match="no text to narrate"):
        document_from_script(script, name="x")


def test_more_than_fifty_scenes_is_a_clear_error():
    script = "\n".join(f"- Item {n}." for n in range(51))
    with pytest.raises(ScriptError, match=r"51 scenes; a project holds at most 50"):
        document_from_script(script, name="x")
    assert len(document_from_script("\n".join(f"- Item {n}." for n in range(50)), name="x").scenes) == 50


def test_a_video_over_ten_minutes_is_a_clear_error():
    script = "\n\n".join("Sentence number one is here. " * 10 for _ in range(40))  # 40 scenes of 50 words
    with pytest.raises(ScriptError, match="the limit is 600 s"):
        document_from_script(script, name="x")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("ab Z.!?#*_-`>[]()1\n\t=~<!-é")), max_size=400))
def test_any_text_makes_a_valid_project_or_a_script_error(script):
    try:
        document = document_from_script(script, name="x")
    except ScriptError:
        return
    load_document(document)
    assert all(ID.match(scene.id) for scene in document.scenes)


# --- reading the file --------------------------------------------------------------------------------------

def test_read_script_drops_bom_and_normalizes_newlines(tmp_path):
    path = tmp_path / "s.md"
    path.write_bytes("\ufeffOne\r\ntwo\rthree\n".encode())
    assert read_script(path) == "One\ntwo\nthree\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "script not found"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes("café".encode("latin-1")), r"not UTF-8 text \(byte 3\): save it as UTF-8"),
        (lambda p: p.write_bytes(b"PK\x03\x04\x00\x00"), "binary file"),
    ],
)
def test_read_script_errors_are_one_line(tmp_path, make, message):
    path = tmp_path / "script.txt"
    make(path)
    with pytest.raises(ScriptError, match=message) as raised:
        read_script(path)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ReelforgeError)


# --- the command -------------------------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reelforge", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_reelforge_new_writes_a_project_that_validates(tmp_path):
    (tmp_path / "facts.md").write_text("# Ocean facts\n\nThe ocean is big.\n\n1. It is deep.\n2. It is old.\n", encoding="utf-8")
    made = run_cli("new", "--from-text", "facts.md", "-o", "facts.json", "--aspect", "1:1", "--voice", "en_US-joe-medium", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "wrote facts.json: 3 scenes" in made.stdout
    data = json.loads((tmp_path / "facts.json").read_text(encoding="utf-8"))
    assert data["output"]["aspectRatio"] == "1:1"
    checked = run_cli("validate", "facts.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_reelforge_new_reports_a_missing_script_in_one_line(tmp_path):
    made = run_cli("new", "--from-text", "nope.md", "-o", "out.json", cwd=tmp_path)
    assert made.returncode == 2
    assert made.stderr.strip().count("\n") == 0
    assert "script not found: nope.md" in made.stderr
    assert not (tmp_path / "out.json").exists()
