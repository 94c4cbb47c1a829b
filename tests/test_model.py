"""Unit tests of every model rule, the upgrade chain, JSON paths, messages, parsing and the document checks."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import AVS_REQUEST, AVS_TEMPLATE, SCENE_DOCUMENT
from reelforge.document.checks import check_document
from reelforge.document.jsonpath import format_path, locate
from reelforge.document.loader import MAX_DOCUMENT_BYTES, load_document, parse_json, read_json_file, validate_data
from reelforge.document.problems import MAX_PROBLEMS
from reelforge.document.upgrade import upgrade
from reelforge.errors import DocumentError, Problem
from reelforge.model import (
    AudioBlock,
    Captions,
    Document,
    ImageVisual,
    ListItemCard,
    Music,
    Narration,
    Output,
    Placement,
    QuizCard,
    RenderRequest,
    Scene,
    Source,
    StatCard,
    TextBlock,
    TextOverlay,
    TextStyle,
    Transition,
    VideoVisual,
    Voice,
)
from reelforge.model.document import DocumentFile

COLOR = {"type": "color", "color": "#000000"}


def problems_of(data) -> list[Problem]:
    with pytest.raises(DocumentError) as caught:
        validate_data(copy.deepcopy(data))
    return caught.value.problems


def only_problem(data) -> Problem:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


def scene_doc(**scene) -> dict:
    return {"version": "1", "name": "t", "scenes": [{"id": "s", "duration": 2, "visual": COLOR, **scene}]}


def block_doc(**block) -> dict:
    return {"version": "1", "name": "t", "blocks": [{"type": "text", "start": 0, "duration": 2, "text": "hi", **block}]}


# --- the strict base model ------------------------------------------------------------------------------------


class TestStrictModel:
    def test_unknown_keys_are_rejected(self):
        with pytest.raises(ValidationError):
            Transition.model_validate({"type": "cut", "speed": 2})

    def test_strings_are_not_numbers(self):
        with pytest.raises(ValidationError):
            Voice.model_validate({"speed": "1.5"})

    def test_booleans_are_not_numbers(self):
        with pytest.raises(ValidationError):
            Voice.model_validate({"speed": True})

    def test_camel_case_on_the_wire_snake_case_in_python(self):
        output = Output.model_validate({"aspectRatio": "1:1"})
        assert output.aspect_ratio == "1:1"
        assert output.to_json_dict() == {"aspectRatio": "1:1"}
        assert Output(aspect_ratio="16:9").aspect_ratio == "16:9"

    def test_the_loader_takes_camel_case_keys_only(self):
        assert Source(upload_name="a.png").upload_name == "a.png"  # Python code may use field names
        data = copy.deepcopy(AVS_TEMPLATE)
        data["blocks"][1]["source"] = {"upload_name": "a.png"}
        problem = only_problem(data)
        assert problem == Problem("blocks[1].source.upload_name", "unknown key 'upload_name'; did you mean 'uploadName'?")

    def test_snake_case_key_in_a_file_is_reported_with_the_camel_case_spelling(self):
        data = {"version": "1", "name": "t", "assets_dir": "media", "blocks": AVS_TEMPLATE["blocks"]}
        problem = only_problem(data)
        assert problem == Problem("assets_dir", "unknown key 'assets_dir'; did you mean 'assetsDir'?")

    def test_assignment_is_validated(self):
        voice = Voice()
        with pytest.raises(ValidationError):
            voice.speed = 9
        assert voice.speed == 1.0

    def test_to_json_dict_leaves_defaults_out(self):
        assert Voice(speed=1.2).to_json_dict() == {"speed": 1.2}

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_nan_and_infinity_are_rejected_everywhere(self, value):
        for model, field in [(Voice, "speed"), (Placement, "x"), (TextStyle, "fontSize"), (Music, "duckAmount")]:
            data = {field: value} if model is not Music else {"mood": "calm", field: value}
            with pytest.raises(ValidationError):
                model.model_validate(data)

    def test_fields_have_descriptions_for_editors(self):
        from reelforge.model.base import StrictModel

        pending, missing = [StrictModel], []
        while pending:
            for model in pending.pop().__subclasses__():
                pending.append(model)
                if not model.__module__.startswith("reelforge."):
                    continue  # a plug-in's model (tests install some), not reelforge's to describe
                missing += [f"{model.__name__}.{name}" for name, field in model.model_fields.items()
                            if not field.description and name not in ("id",)]
        assert missing == []


class TestInteger:
    @pytest.mark.parametrize("value, expected", [(30, 30), (30.0, 30), (24.0, 24)])
    def test_whole_numbers_in_any_json_spelling(self, value, expected):
        assert Output.model_validate({"fps": value}).fps == expected
        assert type(Output.model_validate({"fps": value}).fps) is int

    @pytest.mark.parametrize("value", [29.97, "30", True, None, [30], math.inf])
    def test_anything_else_is_rejected(self, value):
        with pytest.raises(ValidationError):
            Output.model_validate({"fps": value})

    def test_optional_integer_keeps_its_range(self):
        assert Captions.model_validate({"wordsPerLine": 4.0}).words_per_line == 4
        for value in (0, 13, 2.5):
            with pytest.raises(ValidationError):
                Captions.model_validate({"wordsPerLine": value})


# --- sources ---------------------------------------------------------------------------------------------------


class TestSource:
    @pytest.mark.parametrize("data", [{"uploadName": "clip.mp4"}, {"url": "https://example.com/a.mp4"}, {"path": "media/a.mp4"}])
    def test_one_kind(self, data):
        source = Source.model_validate(data)
        assert source.kind == next(iter(data))
        assert source.value == source.label() == next(iter(data.values()))

    @pytest.mark.parametrize("data", [
        {}, {"uploadName": None}, {"uploadName": "a.mp4", "url": "https://example.com/a.mp4"},
        {"uploadName": "a.mp4", "path": "a.mp4"}, {"url": "http://x.y/a", "path": "a"},
    ])
    def test_exactly_one_kind(self, data):
        with pytest.raises(ValidationError, match="exactly one of 'uploadName', 'url' or 'path'"):
            Source.model_validate(data)

    def test_null_beside_the_one_kind_is_fine(self):
        assert Source.model_validate({"uploadName": "a.mp4", "url": None}).kind == "uploadName"

    @pytest.mark.parametrize("name", ["clip.mp4", "My Clip (1).MP4", "a", "ünïcödé.png", "x" * 255, "a..b.png"])
    def test_upload_names(self, name):
        assert Source.model_validate({"uploadName": name}).upload_name == name

    @pytest.mark.parametrize("name", [
        "", "../secret.mp4", "..", ".hidden.png", "sub/clip.mp4", "/etc/passwd", "C:\\clip.mp4", "..\\clip.mp4",
        "clip.mp4\n", "clip\x00.mp4", "tab\there.png", "x" * 256,
    ])
    def test_upload_names_that_are_paths_or_odd_are_rejected(self, name):
        with pytest.raises(ValidationError):
            Source.model_validate({"uploadName": name})

    @pytest.mark.parametrize("url", ["https://example.com/a.mp4", "http://localhost:8000/x?y=1#z", "HTTPS://EXAMPLE.COM/A"])
    def test_urls(self, url):
        assert Source.model_validate({"url": url}).url == url

    @pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a", "https://", "https:// spaced.com", "example.com/a",
                                     "https://example.com/a b", "https://e.com/" + "a" * 2048])
    def test_bad_urls(self, url):
        with pytest.raises(ValidationError):
            Source.model_validate({"url": url})

    @pytest.mark.parametrize("path", ["", "a\nb", "x" * 1025])
    def test_bad_paths(self, path):
        with pytest.raises(ValidationError):
            Source.model_validate({"path": path})


# --- sound -----------------------------------------------------------------------------------------------------


class TestNarration:
    def test_text_or_audio(self):
        assert Narration.model_validate({"text": "Hi."}).words_text == "Hi."
        narration = Narration.model_validate({"audio": {"path": "v.wav"}, "transcript": "Hello."})
        assert narration.words_text == "Hello."
        assert Narration.model_validate({"audio": {"path": "v.wav"}}).words_text == ""

    @pytest.mark.parametrize("data", [{}, {"text": "a", "audio": {"path": "v.wav"}}, {"text": None}, {"transcript": "a"}])
    def test_exactly_one_kind(self, data):
        with pytest.raises(ValidationError):
            Narration.model_validate(data)

    def test_transcript_goes_with_audio(self):
        with pytest.raises(ValidationError, match="'transcript' goes with 'audio'"):
            Narration.model_validate({"text": "a", "transcript": "a"})

    @pytest.mark.parametrize("text", ["", "x" * 5001])
    def test_text_length(self, text):
        with pytest.raises(ValidationError):
            Narration.model_validate({"text": text})


class TestVoice:
    def test_defaults(self):
        voice = Voice()
        assert (voice.engine, voice.voice_id, voice.speed) == ("piper", "en_US-joe-medium", 1.0)

    @pytest.mark.parametrize("data", [{"speed": 0.4}, {"speed": 2.1}, {"engine": "cloud"}, {"voiceId": "../x"},
                                      {"voiceId": ""}, {"voiceId": "-x"}])
    def test_rejected(self, data):
        with pytest.raises(ValidationError):
            Voice.model_validate(data)


class TestMusic:
    def test_mood_or_source(self):
        assert Music.model_validate({"mood": "none"}).is_silent
        assert not Music.model_validate({"source": {"uploadName": "a.mp3"}}).is_silent

    @pytest.mark.parametrize("data", [{}, {"mood": "calm", "source": {"uploadName": "a.mp3"}}, {"mood": "sad"},
                                      {"mood": "calm", "volume": 1.5}, {"mood": "calm", "duckAmount": 41},
                                      {"mood": "calm", "fadeIn": 11}, {"mood": "calm", "ducking": "yes"}])
    def test_rejected(self, data):
        with pytest.raises(ValidationError):
            Music.model_validate(data)


# --- blocks ----------------------------------------------------------------------------------------------------


class TestBlocks:
    def test_each_block_type(self):
        document = validate_data(copy.deepcopy(AVS_TEMPLATE))
        assert [block.type for block in document.blocks] == ["video", "image", "text", "audio"]
        assert document.blocks[0].end == 5

    def test_defaults(self):
        audio = AudioBlock.model_validate({"type": "audio", "start": 0, "duration": 1, "source": {"path": "a.wav"}})
        assert (audio.volume, audio.fade_in, audio.fade_out, audio.loop) == (1.0, 0.0, 0.0, False)
        text = TextBlock.model_validate({"type": "text", "start": 0, "duration": 1, "text": "t"})
        assert text.placement == Placement() and text.style == TextStyle()

    @pytest.mark.parametrize("block, path", [
        ({"start": -0.1}, "blocks[0].start"),
        ({"start": 3600.5}, "blocks[0].start"),
        ({"duration": 0}, "blocks[0].duration"),
        ({"duration": 3601}, "blocks[0].duration"),
        ({"text": ""}, "blocks[0].text"),
        ({"text": "x" * 501}, "blocks[0].text"),
        ({"placement": {"anchor": "middle"}}, "blocks[0].placement.anchor"),
        ({"placement": {"x": 1.5}}, "blocks[0].placement.x"),
        ({"placement": {"maxWidth": 0}}, "blocks[0].placement.maxWidth"),
        ({"style": {"fontSize": 0}}, "blocks[0].style.fontSize"),
        ({"style": {"fontSize": 0.51}}, "blocks[0].style.fontSize"),
        ({"style": {"outlineWidth": 0.06}}, "blocks[0].style.outlineWidth"),
        ({"style": {"boxColor": "#12345"}}, "blocks[0].style.boxColor"),
        ({"style": {"align": "justify"}}, "blocks[0].style.align"),
    ])
    def test_text_block_ranges(self, block, path):
        assert only_problem(block_doc(**block)).path == path

    @pytest.mark.parametrize("extra, ok", [({"fadeIn": 30, "duration": 60}, True), ({"fadeIn": 31, "duration": 60}, False),
                                           ({"fadeIn": 1, "fadeOut": 1, "duration": 2}, True),
                                           ({"fadeIn": 1.5, "fadeOut": 1, "duration": 2}, False),
                                           ({"volume": 2}, True), ({"volume": 2.1}, False)])
    def test_audio_fades_and_volume(self, extra, ok):
        data = {"type": "audio", "start": 0, "duration": 2, "source": {"path": "a.wav"}, **extra}
        if ok:
            AudioBlock.model_validate(data)
        else:
            with pytest.raises(ValidationError):
                AudioBlock.model_validate(data)

    def test_video_block_options(self):
        data = block_doc(type="video", text=None)
        del data["blocks"][0]["text"]
        data["blocks"][0].update(source={"path": "v.mp4"}, fit="contain", loop=False, volume=0.5, trimStart=2)
        block = validate_data(data).blocks[0]
        assert (block.fit, block.loop, block.volume, block.trim_start) == ("contain", False, 0.5, 2)

    def test_image_block_fit(self):
        data = block_doc(type="image", fit="stretch", source={"path": "i.png"})
        del data["blocks"][0]["text"]
        assert only_problem(data).path == "blocks[0].fit"

    def test_text_field_belongs_to_text_blocks_only(self):
        data = block_doc(type="image", source={"path": "i.png"})
        assert only_problem(data) == Problem("blocks[0].text", "unknown key 'text'; allowed keys: start, duration, source, type, fit")


# --- visuals and cards -----------------------------------------------------------------------------------------


class TestVisuals:
    def test_video_trim_order(self):
        base = {"type": "video", "source": {"path": "v.mp4"}}
        assert VideoVisual.model_validate({**base, "trimStart": 1, "trimEnd": 2}).trim_end == 2
        with pytest.raises(ValidationError, match="trimEnd must be after trimStart"):
            VideoVisual.model_validate({**base, "trimStart": 2, "trimEnd": 2})

    def test_image_motion(self):
        image = ImageVisual.model_validate({"type": "image", "source": {"path": "i.png"}})
        assert (image.motion, image.motion_amount) == ("zoom_in", 0.15)
        for bad in ({"motion": "spin"}, {"motionAmount": 1.1}):
            with pytest.raises(ValidationError):
                ImageVisual.model_validate({"type": "image", "source": {"path": "i.png"}, **bad})

    @pytest.mark.parametrize("visual, path", [
        ({"type": "color", "color": "black"}, "scenes[0].visual.color"),
        ({"type": "color"}, "scenes[0].visual.color"),
        ({"type": "gradient", "colors": ["#000"]}, "scenes[0].visual.colors"),
        ({"type": "gradient", "colors": ["#000"] * 5}, "scenes[0].visual.colors"),
        ({"type": "gradient", "colors": ["#000", "#fff"], "angle": 360}, "scenes[0].visual.angle"),
        ({"type": "gradient", "colors": ["#000", "#ggg"]}, "scenes[0].visual.colors[1]"),
        ({"type": "card", "card": {"card": "title", "title": "T"}, "background": "#1234567"}, "scenes[0].visual.background"),
        ({"type": "image"}, "scenes[0].visual.source"),
        ({"kind": "color"}, "scenes[0].visual.type"),  # the tag is missing
    ])
    def test_rejected_visuals(self, visual, path):
        assert only_problem(scene_doc(visual=visual)).path == path

    @pytest.mark.parametrize("color", ["#fff", "#FFFF", "#a1b2c3", "#a1b2c3d4"])
    def test_colors(self, color):
        assert validate_data(scene_doc(visual={"type": "color", "color": color})).scenes[0].visual.color == color


class TestCards:
    @pytest.mark.parametrize("card", [
        {"card": "title", "title": "T", "subtitle": "S"},
        {"card": "list_item", "number": 3, "title": "T", "body": "B"},
        {"card": "quiz", "question": "Q?", "choices": ["a", "b", "c", "d"], "answer": 3, "countdown": 0},
        {"card": "stat", "value": -12.5, "decimals": 1, "prefix": "$", "suffix": "M", "label": "L"},
        {"card": "quote", "quote": "Q", "author": "A"},
        {"card": "end", "title": "T", "callToAction": "Follow"},
    ])
    def test_each_card(self, card):
        document = validate_data(scene_doc(visual={"type": "card", "card": card}))
        assert document.scenes[0].visual.card.card == card["card"]

    @pytest.mark.parametrize("answer, choices, ok", [(0, 2, True), (1, 2, True), (2, 2, False), (2, 3, True), (3, 3, False),
                                                     (3, 4, True), (4, 4, False), (-1, 2, False)])
    def test_quiz_answer_is_a_choice(self, answer, choices, ok):
        data = {"card": "quiz", "question": "Q", "choices": [f"c{i}" for i in range(choices)], "answer": answer}
        if ok:
            assert QuizCard.model_validate(data).answer == answer
        else:
            with pytest.raises(ValidationError):
                QuizCard.model_validate(data)

    @pytest.mark.parametrize("data", [{"value": 1e13}, {"value": 1, "decimals": 4}, {"value": 1, "prefix": "x" * 9},
                                      {"value": "12"}])
    def test_stat_limits(self, data):
        with pytest.raises(ValidationError):
            StatCard.model_validate({"card": "stat", **data})

    def test_list_item_number(self):
        assert ListItemCard.model_validate({"card": "list_item", "number": 7.0, "title": "T"}).number == 7
        with pytest.raises(ValidationError):
            ListItemCard.model_validate({"card": "list_item", "number": 1000, "title": "T"})

    def test_card_error_path_with_a_tag_spelt_like_a_key(self):
        # {"type": "card", "card": {"card": "quiz", ...}}: pydantic's location repeats "card" as tag and as key.
        data = scene_doc(visual={"type": "card", "card": {"card": "quiz", "question": "Q", "choices": ["a", "b"], "answer": 1.5}})
        assert only_problem(data) == Problem("scenes[0].visual.card.answer", "must be a whole number, got 1.5")


# --- scenes ----------------------------------------------------------------------------------------------------


class TestScene:
    def test_auto_duration_needs_narration(self):
        with pytest.raises(ValidationError, match="needs a fixed 'duration'"):
            Scene.model_validate({"id": "a", "visual": COLOR})
        scene = Scene.model_validate({"id": "a", "visual": COLOR, "narration": {"text": "Hi."}})
        assert (scene.duration, scene.padding) == ("auto", 0.4)

    @pytest.mark.parametrize("scene_id", ["a", "A-1_b", "x" * 64, "0"])
    def test_ids(self, scene_id):
        assert Scene.model_validate({"id": scene_id, "visual": COLOR, "duration": 1}).id == scene_id

    @pytest.mark.parametrize("scene_id", ["", "-a", "_a", "a b", "a.b", "x" * 65, "a\n", "é"])
    def test_bad_ids(self, scene_id):
        with pytest.raises(ValidationError):
            Scene.model_validate({"id": scene_id, "visual": COLOR, "duration": 1})

    @pytest.mark.parametrize("scene, path", [
        ({"duration": 0}, "scenes[0].duration"),
        ({"duration": "3"}, "scenes[0].duration"),
        ({"padding": 6, "narration": {"text": "a"}, "duration": "auto"}, "scenes[0].padding"),
        ({"title": "x" * 201}, "scenes[0].title"),
        ({"overlays": [{"text": "t"}] * 11}, "scenes[0].overlays"),
        ({"overlays": [{"text": "t", "duration": 0}]}, "scenes[0].overlays[0].duration"),
        ({"transition": {"type": "dissolve"}}, "scenes[0].transition.type"),
        ({"transition": {"type": "crossfade", "duration": 0.05}}, "scenes[0].transition.duration"),
        ({"transition": {"type": "crossfade", "duration": 2.5}}, "scenes[0].transition.duration"),
    ])
    def test_rejected(self, scene, path):
        assert only_problem(scene_doc(**scene)).path == path

    def test_overlay_default_placement_is_near_the_top(self):
        overlay = TextOverlay.model_validate({"text": "t"})
        assert (overlay.placement.anchor, overlay.placement.y, overlay.duration) == ("top", 0.12, None)

    def test_transition_defaults(self):
        assert Transition() == Transition(type="cut", duration=0.5)


# --- output, captions, theme, document ---------------------------------------------------------------------------


class TestOutput:
    @pytest.mark.parametrize("aspect, resolution, size", [
        ("9:16", "1080p", (1080, 1920)), ("16:9", "1080p", (1920, 1080)), ("1:1", "720p", (720, 720)),
        ("4:5", "1080p", (1080, 1350)), ("16:9", "4k", (3840, 2160)), ("9:16", "720p", (720, 1280)),
    ])
    def test_frame_size(self, aspect, resolution, size):
        width, height = Output(aspect_ratio=aspect, resolution=resolution).frame_size()
        assert (width, height) == size and width % 2 == 0 and height % 2 == 0

    @pytest.mark.parametrize("data", [{"aspectRatio": "21:9"}, {"resolution": "8k"}, {"quality": "best"}, {"fps": 11},
                                      {"fps": 61}])
    def test_rejected(self, data):
        with pytest.raises(ValidationError):
            Output.model_validate(data)


class TestCaptions:
    def test_words_per_line(self):
        assert Captions().line_words() == 3
        assert Captions(style="minimal_white").line_words() == 4
        assert Captions(style="karaoke_neon", words_per_line=5).line_words() == 5

    @pytest.mark.parametrize("data", [{"style": "comic"}, {"position": "left"}, {"enabled": 1}])
    def test_rejected(self, data):
        with pytest.raises(ValidationError):
            Captions.model_validate(data)


class TestDocument:
    def test_needs_content(self):
        problem = only_problem({"version": "1", "name": "t"})
        assert problem == Problem("", "a document needs at least one scene or one block")

    @pytest.mark.parametrize("data, path", [
        ({"language": "EN"}, "language"),
        ({"language": "en_US"}, "language"),
        ({"description": "x" * 2001}, "description"),
        ({"name": "x" * 201}, "name"),
        ({"duration": 0}, "duration"),
        ({"assetsDir": ""}, "assetsDir"),
        ({"assetsDir": "a\x00b"}, "assetsDir"),
        ({"theme": {"font": "comic"}}, "theme.font"),
        ({"theme": {"primary": "yellow"}}, "theme.primary"),
        ({"scenes": [{"id": f"s{i}", "duration": 1, "visual": COLOR} for i in range(51)]}, "scenes"),
    ])
    def test_rejected(self, data, path):
        assert only_problem({**copy.deepcopy(SCENE_DOCUMENT), **data}).path == path

    def test_too_many_blocks(self):
        data = {"version": "1", "name": "t", "blocks": [AVS_TEMPLATE["blocks"][2]] * 201}
        assert only_problem(data) == Problem("blocks", "has 201 items; the limit is 200")

    @pytest.mark.parametrize("language", ["en", "en-US", "de", "zh-Hant-TW", "fil"])
    def test_languages(self, language):
        assert validate_data({**copy.deepcopy(SCENE_DOCUMENT), "language": language}).language == language

    def test_scene_index(self):
        document = validate_data(copy.deepcopy(SCENE_DOCUMENT))
        assert document.scene_index("outro") == 1
        with pytest.raises(KeyError):
            document.scene_index("nope")


class TestRenderRequest:
    def test_request_body_loads_as_its_template_with_the_output_merged(self):
        document = validate_data(copy.deepcopy(AVS_REQUEST))
        bare = validate_data(copy.deepcopy(AVS_TEMPLATE))
        assert (document.output.aspect_ratio, document.output.quality) == ("16:9", "studio")
        assert document.blocks == bare.blocks and document.name == bare.name

    def test_request_output_overrides_only_what_it_names(self):
        template = {**copy.deepcopy(AVS_TEMPLATE), "output": {"fps": 24, "quality": "draft"}}
        document = validate_data({"template": template, "output": {"quality": "web"}})
        assert (document.output.fps, document.output.quality) == (24, "web")

    def test_request_without_output(self):
        assert validate_data({"template": copy.deepcopy(AVS_TEMPLATE)}).output == Output()

    def test_model_level(self):
        request = RenderRequest.model_validate(copy.deepcopy(AVS_REQUEST))
        assert isinstance(request.to_document(), Document)

    def test_request_body_errors_are_located_inside_it(self):
        data = copy.deepcopy(AVS_REQUEST)
        data["template"]["blocks"][2]["text"] = 5
        assert only_problem(data) == Problem("template.blocks[2].text", "must be a string, got 5")

    def test_version_beside_template_means_a_document(self):
        data = {**copy.deepcopy(AVS_TEMPLATE), "template": {}}
        assert only_problem(data).message.startswith("unknown key 'template'")


# --- upgrades --------------------------------------------------------------------------------------------------


class TestUpgrade:
    def test_current_version_passes_unchanged(self):
        data = copy.deepcopy(SCENE_DOCUMENT)
        assert upgrade(data) == SCENE_DOCUMENT

    @pytest.mark.parametrize("version, message", [
        (None, 'missing: add "version": "1"'),
        (1, 'must be a string such as "1", got 1'),
        ([1], 'must be a string such as "1", got an array'),
        ("2", "version 2 is newer than this reelforge understands (up to 1): upgrade reelforge"),
        ("0.9", "unknown version '0.9'; known versions: 1"),
    ])
    def test_bad_versions(self, version, message):
        data = {"name": "x"} if version is None else {"version": version, "name": "x"}
        with pytest.raises(DocumentError) as caught:
            upgrade(data)
        assert caught.value.problems == [Problem("version", message)]

    def test_request_body_version_is_inside_the_template(self):
        with pytest.raises(DocumentError) as caught:
            upgrade({"template": {"name": "x"}})
        assert caught.value.problems[0].path == "template.version"

    def test_request_body_with_a_template_that_is_not_an_object_is_left_to_validation(self):
        assert upgrade({"template": []}) == {"template": []}

    def test_a_chain_of_steps_runs_in_order_and_sets_each_version(self):
        def rename_title(data):
            renamed = {key: value for key, value in data.items() if key != "title"}
            return {**renamed, "name": data["title"]}

        def add_language(data):
            return {**data, "language": "en"}

        chain = {"0": ("0.5", rename_title), "0.5": ("1", add_language)}
        result = upgrade({"version": "0", "title": "Old"}, chain)
        assert result == {"version": "1", "name": "Old", "language": "en"}

    def test_a_chain_upgrades_a_request_bodys_template(self):
        chain = {"0": ("1", lambda data: data)}
        result = upgrade({"template": {"version": "0", "name": "x"}}, chain)
        assert result["template"]["version"] == "1"

    def test_a_looping_chain_is_reported(self):
        chain = {"a": ("b", lambda d: d), "b": ("a", lambda d: d)}
        with pytest.raises(DocumentError, match="loops"):
            upgrade({"version": "a"}, chain)

    def test_an_upgraded_document_is_validated(self):
        chain = {"0": ("1", lambda data: {"name": data["title"], **{k: v for k, v in data.items() if k != "title"}})}
        data = upgrade({"version": "0", "title": "Old", "blocks": copy.deepcopy(AVS_TEMPLATE["blocks"])}, chain)
        assert validate_data(data).name == "Old"


# --- paths and messages ----------------------------------------------------------------------------------------


class TestPaths:
    @pytest.mark.parametrize("parts, text", [
        (["blocks", 0, "source", "uploadName"], "blocks[0].source.uploadName"),
        ([], ""),
        (["scenes", 2], "scenes[2]"),
        (["scenes", 0, "my key"], 'scenes[0]["my key"]'),
        (["a\nb"], '["a\\nb"]'),
        (["_x1"], "_x1"),
    ])
    def test_format_path(self, parts, text):
        assert format_path(parts) == text

    def test_locate_skips_tags_and_union_labels(self):
        loc = ("document", "scenes", 0, "duration", "literal['auto']")
        assert locate(DocumentFile, loc).parts == ["scenes", 0, "duration"]
        loc = ("request", "template", "blocks", 3, "audio", "source", "uploadName")
        assert locate(DocumentFile, loc).parts == ["template", "blocks", 3, "source", "uploadName"]

    def test_locate_names_the_owner_of_an_unknown_key(self):
        location = locate(DocumentFile, ("document", "blocks", 0, "text", "duraton"))
        assert location.parts == ["blocks", 0, "duraton"] and location.owner is TextBlock

    def test_problems_of_a_model_validated_directly(self):
        from reelforge.document.loader import problems_from_validation

        with pytest.raises(ValidationError) as caught:
            Document.model_validate({"version": "1", "name": "x", "scenes": [{"id": "a", "visual": {"type": "card", "card": {"card": "x"}}}]})
        problems = problems_from_validation(caught.value)
        assert problems[0].path == "scenes[0].visual.card.card"  # the card name is the fault


class TestMessages:
    @pytest.mark.parametrize("block, message", [
        ({"duraton": 1}, "unknown key 'duraton'; did you mean 'duration'?"),
        ({"Start": 1}, "unknown key 'Start'; did you mean 'start'?"),
        ({"palcement": {}}, "unknown key 'palcement'; did you mean 'placement'?"),
        ({"zzz": 1}, "unknown key 'zzz'; allowed keys: start, duration, type, text, placement, style"),
    ])
    def test_unknown_keys_suggest_the_right_one(self, block, message):
        problems = problems_of(block_doc(**block))
        assert message in [problem.message for problem in problems]

    def test_misspelt_choice_is_suggested(self):
        problem = only_problem(block_doc(style={"align": "centre"}))
        assert problem.message.endswith("got 'centre'; did you mean 'center'?")

    def test_union_of_a_number_and_a_word(self):
        assert only_problem(scene_doc(duration="soon")).message == "must be a number or 'auto', got 'soon'"
        assert only_problem(scene_doc(duration=-1)).message == "must be more than 0, got -1"

    def test_every_message_is_one_line(self):
        data = block_doc(**{"te\nxt2": 1, "style": {"color": "#fff\n" * 3}})
        for problem in problems_of(data):
            assert "\n" not in str(problem)

    def test_long_values_are_shortened(self):
        problem = only_problem(block_doc(style={"color": "x" * 10_000}))
        assert len(problem.message) < 200

    def test_problems_are_capped(self):
        data = block_doc(**{f"junk{i}": i for i in range(500)})
        problems = problems_of(data)
        assert len(problems) == MAX_PROBLEMS + 1
        assert problems[-1] == Problem("", f"{500 - MAX_PROBLEMS} more errors not shown: fix the ones above first")

    def test_not_an_object(self):
        for data, kind in [([], "an array"), ("x", "a string"), (None, "null"), (3, "a number"), (True, "true/false")]:
            assert only_problem(data) == Problem("", f"a document is a JSON object, got {kind}")

    def test_huge_integer_for_a_number(self):
        assert only_problem(block_doc(start=10**400)).message == "must be a number of a usable size, got a number of more than 40 digits"


# --- parsing ---------------------------------------------------------------------------------------------------


class TestParse:
    @pytest.mark.parametrize("text, message", [
        ('{"a": 1,}', "malformed JSON at line 1, column 9: Expecting property name enclosed in double quotes"),
        ('{\n  "a": [1,\n  2\n', "malformed JSON at line 4, column 1: Expecting ',' delimiter"),
        ("", "the file is empty: a document is a JSON object"),
        ("\ufeff  ", "the file is empty: a document is a JSON object"),
        ('{"a": 1, "a": 2}', "duplicate key 'a' in a JSON object"),
        ('{"s": "NaN",\n "n": -Infinity}', "malformed JSON at line 2, column 7: -Infinity is not a JSON number"),
        ('{"n": ' + "1" * 4500 + "}", "malformed JSON at line 1, column 7: a number with thousands of digits"),
        ("[" * 50_000, "JSON nested too deeply"),
    ])
    def test_faults(self, text, message):
        with pytest.raises(DocumentError) as caught:
            parse_json(text)
        assert caught.value.problems == [Problem("", message)]

    def test_byte_order_mark_is_accepted(self):
        assert parse_json("\ufeff{}".encode()) == {}

    def test_not_utf8(self):
        with pytest.raises(DocumentError, match="not UTF-8 text"):
            parse_json(b'{"a": "\xff"}')

    def test_size_limit(self):
        with pytest.raises(DocumentError, match="the limit is 5 MB"):
            parse_json(b" " * (MAX_DOCUMENT_BYTES + 1))

    def test_unreadable_files(self, tmp_path):
        for path, message in [(tmp_path / "nope.json", "file not found"), (tmp_path, "is a folder")]:
            with pytest.raises(DocumentError, match=message):
                read_json_file(path)

    @pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
    def test_an_endless_file_is_cut_off(self):
        with pytest.raises(DocumentError, match="larger than the 5 MB limit"):
            read_json_file(Path("/dev/zero"))


# --- checks beyond the schema ----------------------------------------------------------------------------------


class TestChecks:
    def test_duplicate_scene_ids(self):
        data = copy.deepcopy(SCENE_DOCUMENT)
        data["scenes"].append({**data["scenes"][1]})
        data["scenes"].append({**data["scenes"][1]})
        problems = check_document(validate_data(data))
        assert [p.path for p in problems] == ["scenes[2].id", "scenes[3].id"]
        assert problems[0].message == "duplicate scene id 'outro' (first used by scenes[1])"

    def test_block_starting_at_or_after_the_end(self):
        data = {**copy.deepcopy(AVS_TEMPLATE), "duration": 5}
        data["blocks"][2]["start"] = 5
        problems = check_document(validate_data(data))
        assert problems == [Problem("blocks[2].start", "starts at 5 s, at or after the video's end (5 s)")]

    def test_block_past_the_scenes(self):
        data = {**copy.deepcopy(SCENE_DOCUMENT), "blocks": [{"type": "text", "start": 30, "duration": 1, "text": "late"}]}
        problems = check_document(validate_data(data))
        assert [p.path for p in problems] == ["blocks[0].start"]

    def test_total_length_limits(self):
        for duration, message in [(601, "the limit is 600 s"), (0.5, "it must last at least 1 s")]:
            data = {**copy.deepcopy(AVS_TEMPLATE), "duration": duration}
            for block in data["blocks"]:
                block.update(start=0, duration=0.4)
            assert message in check_document(validate_data(data))[0].message

    def test_missing_upload_is_a_warning_and_present_files_are_quiet(self, tmp_path):
        document_path = tmp_path / "doc.json"
        document_path.write_text(json.dumps(AVS_TEMPLATE))
        loaded = load_document(document_path)
        assert {(p.path, p.severity) for p in loaded.warnings} == {
            ("blocks[1].source.uploadName", "warning"), ("blocks[3].source.uploadName", "warning"),
        }
        (tmp_path / "assets").mkdir()
        (tmp_path / "assets" / "logo.png").write_bytes(b"png")
        (tmp_path / "assets" / "music.mp3").write_bytes(b"mp3")
        assert load_document(document_path).warnings == []

    def test_assets_override_and_assets_dir(self, tmp_path):
        (tmp_path / "media").mkdir()
        for name in ("logo.png", "music.mp3"):
            (tmp_path / "media" / name).write_bytes(b"x")
        document_path = tmp_path / "doc.json"
        document_path.write_text(json.dumps(AVS_TEMPLATE))
        assert load_document(document_path, assets=tmp_path / "media").warnings == []
        document_path.write_text(json.dumps({**AVS_TEMPLATE, "assetsDir": "media"}))
        assert load_document(document_path).warnings == []

    def test_relative_path_that_is_missing(self, tmp_path):
        data = copy.deepcopy(SCENE_DOCUMENT)
        data["scenes"][0]["visual"] = {"type": "image", "source": {"path": "pics/a.png"}}
        document_path = tmp_path / "doc.json"
        document_path.write_text(json.dumps(data))
        assert [p.path for p in load_document(document_path).warnings] == ["scenes[0].visual.source.path"]

    def test_names_too_long_for_any_file_system_are_errors_not_a_crash(self, tmp_path):
        data = copy.deepcopy(AVS_TEMPLATE)
        data["blocks"][1]["source"] = {"uploadName": "é" * 200}  # 400 bytes of UTF-8
        data["blocks"][3]["source"] = {"path": "/".join(["x" * 300] * 3)}
        document_path = tmp_path / "doc.json"
        document_path.write_text(json.dumps(data))
        with pytest.raises(DocumentError) as caught:
            load_document(document_path)
        problems = {problem.path: problem.message for problem in caught.value.problems}
        assert set(problems) == {"blocks[1].source.uploadName", "blocks[3].source.path"}
        assert "400 bytes long; file systems allow 255" in problems["blocks[1].source.uploadName"]

    def test_errors_from_checks_stop_loading(self, tmp_path):
        data = copy.deepcopy(SCENE_DOCUMENT)
        data["scenes"][1]["id"] = "intro"
        with pytest.raises(DocumentError) as caught:
            load_document(data)
        assert caught.value.problems[0].path == "scenes[1].id"
