"""Property-based tests: random valid documents round-trip and satisfy the schema; mutated ones never crash."""

from __future__ import annotations

import copy
import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reelforge.document.loader import load_document, parse_json, validate_data
from reelforge.errors import DocumentError

# 80 examples keep the suite fast; REELFORGE_PROPERTY_EXAMPLES=5000 searches harder before a release.
SETTINGS = settings(
    max_examples=int(os.environ.get("REELFORGE_PROPERTY_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# --- valid documents -------------------------------------------------------------------------------------------

CHARACTERS = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be stored (see the invalid corpus)
TEXT = st.text(CHARACTERS, min_size=1, max_size=24)
WORDS = st.text(st.sampled_from("abcdefghij .!?,'"), min_size=1, max_size=60)
COLOR = st.from_regex(r"#(?:[0-9a-f]{3}|[0-9A-F]{6}|[0-9a-fA-F]{8})", fullmatch=True)
SCENE_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,12}", fullmatch=True)
UPLOAD_NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.()-]{0,20}", fullmatch=True)
SOURCE = st.one_of(
    st.builds(lambda name: {"uploadName": name}, UPLOAD_NAME),
    st.builds(lambda path: {"url": f"https://example.com/{path}"}, st.from_regex(r"[a-z0-9/._-]{0,20}", fullmatch=True)),
    st.builds(lambda path: {"path": path}, st.from_regex(r"[a-z0-9][a-z0-9/._-]{0,20}", fullmatch=True)),
)


def number(low: float, high: float, *, exclude_low: bool = False, exclude_high: bool = False) -> st.SearchStrategy:
    """A JSON number in range: a float, or an int when one fits (JSON does not tell them apart)."""
    floats = st.floats(low, high, exclude_min=exclude_low, exclude_max=exclude_high, allow_nan=False, allow_infinity=False)
    int_low, int_high = math.ceil(low), math.floor(high)
    int_low += 1 if exclude_low and int_low == low else 0
    int_high -= 1 if exclude_high and int_high == high else 0
    return st.one_of(floats, st.integers(int_low, int_high)) if int_low <= int_high else floats


def optional(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


SECONDS = number(0, 20)
POSITIVE = number(0.5, 20)
PLACEMENT = optional(
    anchor=st.sampled_from(["top_left", "top", "center", "bottom_right"]), x=number(-1, 1), y=number(-1, 1),
    maxWidth=number(0, 1, exclude_low=True),
)
STYLE = optional(
    fontSize=number(0, 0.5, exclude_low=True), color=COLOR, bold=st.booleans(), align=st.sampled_from(["left", "center", "right"]),
    outlineColor=COLOR, outlineWidth=number(0, 0.05), boxColor=st.one_of(st.none(), COLOR), boxPadding=number(0, 2),
)

CARD = st.one_of(
    st.fixed_dictionaries({"card": st.just("title"), "title": TEXT}, optional={"subtitle": TEXT}),
    st.fixed_dictionaries({"card": st.just("list_item"), "number": st.integers(0, 999), "title": TEXT}, optional={"body": TEXT}),
    st.lists(TEXT, min_size=2, max_size=4).flatmap(lambda choices: st.fixed_dictionaries(
        {"card": st.just("quiz"), "question": TEXT, "choices": st.just(choices), "answer": st.integers(0, len(choices) - 1)},
        optional={"countdown": st.integers(0, 10)},
    )),
    st.fixed_dictionaries({"card": st.just("stat"), "value": number(-1e12, 1e12)},
                          optional={"decimals": st.integers(0, 3), "prefix": st.text(CHARACTERS, max_size=8),
                                    "suffix": st.sampled_from(["", "%", "k"]), "label": TEXT}),
    st.fixed_dictionaries({"card": st.just("quote"), "quote": TEXT}, optional={"author": TEXT}),
    st.fixed_dictionaries({"card": st.just("end"), "title": TEXT}, optional={"callToAction": TEXT}),
)


def _video_visual(trim: tuple[float, float | None]) -> st.SearchStrategy:
    start, end = trim
    extra = {"trimStart": st.just(start)}
    if end is not None:
        extra["trimEnd"] = st.just(end)
    return st.fixed_dictionaries(
        {"type": st.just("video"), "source": SOURCE},
        optional={**extra, "fit": st.sampled_from(["cover", "contain"]), "loop": st.booleans(), "volume": number(0, 2)},
    )


TRIM = st.tuples(number(0, 10), st.one_of(st.none(), number(10, 20, exclude_low=True)))
VISUAL = st.one_of(
    TRIM.flatmap(_video_visual),
    st.fixed_dictionaries({"type": st.just("image"), "source": SOURCE},
                          optional={"motion": st.sampled_from(["none", "zoom_in", "pan_left"]), "motionAmount": number(0, 1),
                                    "fit": st.sampled_from(["cover", "contain"])}),
    st.fixed_dictionaries({"type": st.just("color"), "color": COLOR}),
    st.fixed_dictionaries({"type": st.just("gradient"), "colors": st.lists(COLOR, min_size=2, max_size=4)},
                          optional={"angle": number(0, 360, exclude_high=True)}),
    st.fixed_dictionaries({"type": st.just("card"), "card": CARD}, optional={"background": COLOR}),
)
NARRATION = st.one_of(
    st.fixed_dictionaries({"text": WORDS}),
    st.fixed_dictionaries({"audio": SOURCE}, optional={"transcript": WORDS}),
)
OVERLAY = st.fixed_dictionaries(
    {"text": TEXT}, optional={"start": SECONDS, "duration": POSITIVE, "placement": PLACEMENT, "style": STYLE}
)
TRANSITION = optional(
    type=st.sampled_from(["cut", "crossfade", "fade_black", "slide_left", "wipe_down"]), duration=number(0.1, 2),
)


@st.composite
def scene(draw: st.DrawFn, scene_id: str) -> dict:
    data: dict[str, Any] = {"id": scene_id, "visual": draw(VISUAL)}
    narration = draw(st.one_of(st.none(), NARRATION))
    if narration is not None:
        data["narration"] = narration
    if narration is None or draw(st.booleans()):
        data["duration"] = draw(POSITIVE)
    elif draw(st.booleans()):
        data["duration"] = "auto"
    data.update(draw(optional(
        title=st.text(CHARACTERS, max_size=20),
        overlays=st.lists(OVERLAY, max_size=3), padding=number(0, 5), transition=TRANSITION,
    )))
    return data


@st.composite
def audio_block(draw: st.DrawFn) -> dict:
    duration = draw(POSITIVE)
    fade_in = draw(number(0, min(duration, 30) / 2))
    fade_out = draw(number(0, min(duration, 30) / 2))
    block = {"type": "audio", "start": draw(SECONDS), "duration": duration, "source": draw(SOURCE)}
    block.update(draw(optional(trimStart=SECONDS, volume=number(0, 2), loop=st.booleans(),
                               fadeIn=st.just(fade_in), fadeOut=st.just(fade_out))))
    return block


TIMED = {"start": SECONDS, "duration": POSITIVE}
BLOCK = st.one_of(
    st.fixed_dictionaries({"type": st.just("video"), **TIMED, "source": SOURCE},
                          optional={"trimStart": SECONDS, "fit": st.sampled_from(["cover", "contain"]), "loop": st.booleans(),
                                    "volume": number(0, 2)}),
    st.fixed_dictionaries({"type": st.just("image"), **TIMED, "source": SOURCE}, optional={"fit": st.just("contain")}),
    st.fixed_dictionaries({"type": st.just("text"), **TIMED, "text": TEXT}, optional={"placement": PLACEMENT, "style": STYLE}),
    audio_block(),
)
OUTPUT = optional(
    aspectRatio=st.sampled_from(["16:9", "9:16", "1:1", "4:5"]), resolution=st.sampled_from(["720p", "1080p", "4k"]),
    quality=st.sampled_from(["draft", "web", "studio"]), fps=st.integers(12, 60),
)
MUSIC = st.one_of(
    st.fixed_dictionaries({"mood": st.sampled_from(["upbeat", "calm", "dramatic", "none"])}, optional={"volume": number(0, 1)}),
    st.fixed_dictionaries({"source": SOURCE}, optional={"ducking": st.booleans(), "duckAmount": number(0, 40),
                                                        "fadeIn": number(0, 10), "fadeOut": number(0, 10)}),
)


@st.composite
def documents(draw: st.DrawFn) -> dict:
    """A valid document: scenes and/or blocks, with any of the optional settings; sometimes an AVS request body."""
    ids = draw(st.lists(SCENE_ID, max_size=4, unique=True))
    scenes = [draw(scene(scene_id)) for scene_id in ids]
    blocks = draw(st.lists(BLOCK, min_size=0 if scenes else 1, max_size=4))
    document: dict[str, Any] = {"version": "1", "name": draw(TEXT)}
    if scenes or draw(st.booleans()):
        document["scenes"] = scenes
    if blocks or draw(st.booleans()):
        document["blocks"] = blocks
    document.update(draw(optional(
        description=st.text(CHARACTERS, max_size=40),
        language=st.sampled_from(["en", "en-US", "de", "pt-BR"]), output=OUTPUT,
        voice=optional(voiceId=st.sampled_from(["en_US-joe-medium", "de_DE-thorsten-low"]), speed=number(0.5, 2)),
        captions=optional(enabled=st.booleans(), style=st.sampled_from(["bold_pop", "minimal_white", "karaoke_neon"]),
                          position=st.sampled_from(["bottom", "center", "top"]), wordsPerLine=st.integers(1, 12)),
        music=MUSIC,
        theme=optional(background=COLOR, primary=COLOR, text=COLOR, font=st.sampled_from(["sans", "serif", "display"])),
        assetsDir=st.sampled_from(["assets", "media/clips"]), duration=POSITIVE,
    )))
    if draw(st.integers(0, 4)) == 4:
        return {"template": document, **draw(optional(output=OUTPUT))}
    return document


@SETTINGS
@given(documents())
def test_valid_documents_round_trip(data):
    document = validate_data(copy.deepcopy(data))
    wire = document.to_json_dict()
    again = validate_data(json.loads(json.dumps(wire)))
    assert again == document
    assert again.to_json_dict() == wire


@SETTINGS
@given(data=documents())
def test_valid_documents_pass_the_schema(data, schema_validator):
    assert [error.message for error in schema_validator.iter_errors(data)] == []
    wire = validate_data(copy.deepcopy(data)).to_json_dict()
    assert [error.message for error in schema_validator.iter_errors(wire)] == []


# --- mutated documents -----------------------------------------------------------------------------------------

JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12), st.sampled_from(["", "auto", "\n", "../x", "#fff\n"]),
)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=8)
NOT_JSON = st.sampled_from([math.nan, math.inf, -math.inf])
# Values at or just past the limits of the models' fields, where a schema and a model most easily disagree.
EDGE = st.sampled_from([
    0, -0.0, -1, 0.05, 0.1, 0.5, 1, 1.0, 1.5, 2, 2.0, 2.5, 3, 4, 5, 10, 11, 12, 13, 30, 30.5, 40, 41, 60, 61, 359.9, 360,
    999, 1000, 3600, 3600.001, 1e12, 1.1e12, -1e12, 2.0**53, "", " ", "x" * 65, "x" * 201, "#fff", "#ffff\n", "#12345",
    "a/b", ".x", "x.", "auto", "none", "en-US", "EN", "https://a.b/\x1c", "https://a.b/c d", "card", "quiz", [], {}, None, True,
])


def _places(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every value inside `node` (not the root)."""
    found: list[tuple] = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found.append(path + (key,))
        found += _places(child, path + (key,))
    return found


def _parent(root: Any, path: tuple) -> Any:
    for part in path[:-1]:
        root = root[part]
    return root


@st.composite
def mutated(draw: st.DrawFn, allow_non_json: bool = True) -> Any:
    """A valid document changed in one to three places: keys deleted or added, values of another type, junk."""
    data = draw(documents())
    for _ in range(draw(st.integers(1, 3))):
        places = _places(data)
        if draw(st.integers(0, 3)) < 3:  # the version is one place of few in a small document: spare it mostly
            places = [place for place in places if place not in (("version",), ("template",), ("template", "version"))]
        if not places:
            break
        places.sort(key=len, reverse=True)  # hypothesis favours the first choices: make them the deep places
        path = draw(st.sampled_from(places))
        parent, key = _parent(data, path), path[-1]
        operations = ["edge", "delete", "replace", "add_key", "stringify", "huge", "wrap", "duplicate"] + (["nan"] if allow_non_json else [])
        operation = draw(st.sampled_from(operations))
        if operation == "edge":
            parent[key] = draw(EDGE)
        elif operation == "delete":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(JSON_VALUE)
        elif operation == "add_key":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.one_of(st.text(max_size=10), st.sampled_from(["type", "card", "template", "duraton", "upload_name"])))] = draw(JSON_VALUE)
        elif operation == "stringify":
            parent[key] = json.dumps(parent[key])
        elif operation == "huge":
            parent[key] = draw(st.sampled_from([10**400, -(10**400), 1e308, -1e308, 2**63, 5e-324]))
        elif operation == "wrap":
            parent[key] = [parent[key]]
        elif operation == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif operation == "nan":
            parent[key] = draw(NOT_JSON)
    return data


def _outcome(data: Any) -> DocumentError | None:
    """Validate; None when valid, the DocumentError when not. Anything else propagates and fails the test."""
    try:
        validate_data(data)
    except DocumentError as error:
        assert error.problems, "a DocumentError names at least one problem"
        for problem in error.problems:
            assert isinstance(problem.path, str) and problem.message and "\n" not in str(problem)
        return error
    return None


@SETTINGS
@given(mutated())
def test_mutated_documents_never_crash_the_validator(data):
    _outcome(copy.deepcopy(data))
    try:
        load_document(copy.deepcopy(data)) if isinstance(data, dict) else None
    except DocumentError:
        pass


# Rules of the models that a JSON Schema cannot state (they compare two values in one object).
_BEYOND_SCHEMA = ("trimEnd must be after trimStart", "fadeIn + fadeOut is longer than the block's duration")


@SETTINGS
@given(data=mutated(allow_non_json=False))
def test_schema_and_models_agree_on_mutated_documents(data, schema_validator):
    error = _outcome(copy.deepcopy(data))
    schema_accepts = schema_validator.is_valid(data)
    if error is None:
        assert schema_accepts, "the schema rejects a document the models accept"
    elif schema_accepts:
        messages = [problem.message for problem in error.problems]
        assert all(message in _BEYOND_SCHEMA for message in messages), f"the schema accepts what the models reject: {messages}"


@SETTINGS
@given(documents(), st.data())
def test_damaged_json_text_never_crashes_the_parser(data, draw):
    text = json.dumps(data, ensure_ascii=draw.draw(st.booleans()))
    raw = text.encode("utf-8")
    cut = draw.draw(st.integers(0, len(raw)))
    junk = draw.draw(st.binary(max_size=4))
    damaged = raw[:cut] + junk + raw[cut + draw.draw(st.integers(0, 3)):]
    try:
        validate_data(parse_json(damaged))
    except DocumentError as error:
        assert all("\n" not in str(problem) for problem in error.problems)
