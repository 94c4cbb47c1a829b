"""The published JSON Schema: generated from the models, in step with the file, and agreeing with pydantic."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conftest import (
    AVS_REQUEST,
    AVS_TEMPLATE,
    INVALID,
    SCENE_DOCUMENT,
    SCHEMA_FILE,
    case_id,
    case_path,
    invalid_cases,
    valid_documents,
)
from reelforge.document.loader import load_document, validate_data
from reelforge.document.schema import REGENERATE_COMMAND, document_schema, schema_text
from reelforge.errors import DocumentError

# Keywords of JSON Schema 2020-12 the generator may write, plus OpenAPI's `discriminator` (an annotation that
# validators ignore). Anything else is a keyword no validator knows, so a constraint that silently does nothing.
KNOWN_KEYWORDS = {
    "$schema", "$id", "$defs", "$ref", "title", "description", "default", "examples", "oneOf", "anyOf", "allOf",
    "not", "if", "then", "else", "properties", "required", "additionalProperties", "type", "const", "enum",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "items",
    "minItems", "maxItems",
    "enumDescriptions",  # an annotation: what each choice means, for editors (VS Code shows it)
}


def test_schema_file_matches_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        f"{SCHEMA_FILE.name} is out of date with the models: run `{REGENERATE_COMMAND}` and commit the result"
    )


def test_regenerate_command_is_the_one_named():
    assert REGENERATE_COMMAND == "reelforge schema --write"


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("template.v1.schema.json")


def test_schema_uses_only_known_keywords(schema):
    unknown: set[str] = set()

    def walk(node, keyword_position: bool):
        if isinstance(node, dict):
            for key, value in node.items():
                if keyword_position and key not in KNOWN_KEYWORDS:
                    unknown.add(key)
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        walk(sub, True)
                elif key in ("default", "examples", "const", "enum", "enumDescriptions"):
                    continue
                else:
                    walk(value, True)
        elif isinstance(node, list):
            for item in node:
                walk(item, True)

    walk(schema, True)
    assert unknown == set(), "pydantic wrote constraints JSON Schema does not know (put them inside the union member)"


def test_patterns_end_at_the_end_of_the_text(schema):
    text = json.dumps(schema)
    assert '$"' not in text, "every pattern ending in $ must also refuse a final newline, as the models do"


@pytest.mark.parametrize("name, document", valid_documents(), ids=[name for name, _ in valid_documents()])
def test_valid_documents_pass_schema_and_models(name, document, schema_validator):
    errors = [error.message for error in schema_validator.iter_errors(document)]
    assert errors == []
    validate_data(copy.deepcopy(document))


def test_avs_forms_load_verbatim():
    bare = validate_data(copy.deepcopy(AVS_TEMPLATE))
    wrapped = validate_data(copy.deepcopy(AVS_REQUEST))
    assert bare.blocks == wrapped.blocks
    assert bare.to_json_dict() == copy.deepcopy(AVS_TEMPLATE)


CASES = [case for case in invalid_cases() if "schema" in case]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_invalid_corpus_against_schema_and_models(case, schema_validator):
    data = json.loads((INVALID / case["file"]).read_text(encoding="utf-8"))
    schema_rejects = not schema_validator.is_valid(data)
    if case["schema"]:
        assert schema_rejects, f"{case['file']} ({case['fault']}): the schema accepts what the models reject"
    else:
        assert not schema_rejects, (
            f"{case['file']} ({case['fault']}): the schema now rejects it; set \"schema\": true in the manifest"
        )
    with pytest.raises(DocumentError):
        load_document(data)  # the models, then the checks a schema cannot make


def _scene(**fields) -> dict:
    document = copy.deepcopy(SCENE_DOCUMENT)
    document["scenes"][0].update(fields)
    return document


def _source(source) -> dict:
    document = copy.deepcopy(AVS_TEMPLATE)
    document["blocks"][1]["source"] = source
    return document


# Places where JSON Schema and pydantic could easily disagree; each was wrong once.
AGREEMENT = [
    ("integral float for an integer", {**copy.deepcopy(SCENE_DOCUMENT), "output": {"fps": 30.0}}),
    ("fraction for an integer", {**copy.deepcopy(SCENE_DOCUMENT), "output": {"fps": 29.5}}),
    ("optional integer out of range", {**copy.deepcopy(SCENE_DOCUMENT), "captions": {"wordsPerLine": 0}}),
    ("optional integer as float", {**copy.deepcopy(SCENE_DOCUMENT), "captions": {"wordsPerLine": 2.0}}),
    ("trailing newline in an id", _scene(id="intro\n")),
    ("trailing newline in a color", _scene(visual={"type": "color", "color": "#fff\n"})),
    ("trailing newline in a language", {**copy.deepcopy(SCENE_DOCUMENT), "language": "en\n"}),
    ("null beside the chosen source", _source({"uploadName": "a.png", "url": None})),
    ("only nulls in a source", _source({"uploadName": None, "path": None})),
    ("snake_case key", _source({"upload_name": "a.png"})),
    ("null narration text beside audio", _scene(narration={"text": None, "audio": {"path": "v.wav"}})),
    ("transcript with audio", _scene(narration={"audio": {"path": "v.wav"}, "transcript": "Hi."})),
    ("transcript with text", _scene(narration={"text": "Hi.", "transcript": "Hi."})),
    ("transcript with null audio", _scene(narration={"text": "Hi.", "audio": None, "transcript": "Hi."})),
    ("null transcript with text", _scene(narration={"text": "Hi.", "transcript": None})),
    ("silent scene with null narration", _scene(narration=None)),
    ("silent scene with auto", _scene(narration=None, duration="auto")),
    ("silent scene with seconds", _scene(narration=None, duration=3)),
    ("quiz answer 2 of 2", _scene(visual={"type": "card", "card": {"card": "quiz", "question": "Q", "choices": ["a", "b"], "answer": 2}})),
    ("quiz answer 2 of 3", _scene(visual={"type": "card", "card": {"card": "quiz", "question": "Q", "choices": ["a", "b", "c"], "answer": 2}})),
    ("fade of 30 s", {**copy.deepcopy(AVS_TEMPLATE), "blocks": [{**AVS_TEMPLATE["blocks"][3], "duration": 100, "fadeOut": 30}]}),
    ("fade of 31 s", {**copy.deepcopy(AVS_TEMPLATE), "blocks": [{**AVS_TEMPLATE["blocks"][3], "duration": 100, "fadeOut": 31}]}),
    ("empty scenes with blocks", {**copy.deepcopy(AVS_TEMPLATE), "scenes": []}),
    ("empty scenes and blocks", {**copy.deepcopy(AVS_TEMPLATE), "blocks": []}),
    ("music mood none", {**copy.deepcopy(SCENE_DOCUMENT), "music": {"mood": "none"}}),
    ("music mood null with source", {**copy.deepcopy(SCENE_DOCUMENT), "music": {"mood": None, "source": {"path": "m.mp3"}}}),
    ("request body with version beside", {**copy.deepcopy(AVS_REQUEST), "version": "1"}),
    ("request body with null output", {"template": copy.deepcopy(AVS_TEMPLATE), "output": None}),
    ("url with a control character Python calls white space", _source({"url": "https://example.com/a\x1cb"})),
    ("url with a byte order mark ECMA calls white space", _source({"url": "https://example.com/a\ufeffb"})),
    ("url with a non-breaking space", _source({"url": "https://example.com/a\u00a0b"})),
    ("boolean for a number", _scene(duration=True)),
    ("string for a number", _scene(duration="3")),
]


@pytest.mark.parametrize("document", [document for _, document in AGREEMENT], ids=[name for name, _ in AGREEMENT])
def test_schema_and_models_agree(document, schema_validator):
    schema_accepts = schema_validator.is_valid(document)
    try:
        validate_data(copy.deepcopy(document))
        models_accept = True
    except DocumentError:
        models_accept = False
    assert schema_accepts == models_accept, f"schema {'accepts' if schema_accepts else 'rejects'}, models do not"


def test_schema_is_generated_fresh_each_time():
    assert document_schema() == document_schema()
    assert document_schema() is not document_schema()


def test_a_generic_validator_reports_each_fault_at_the_path_reelforge_names(tmp_path):
    """check-jsonschema (a standard Draft 2020-12 validator) on the invalid corpus: the published schema leads it to
    the real fault at the real path, not to headlines such as "'version' was unexpected" from a top-level oneOf."""
    executable = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("check-jsonschema is not installed (it is in the test extra)")
    # A lone surrogate makes the validator's own ECMA-262 regex engine fail to encode the text (it checks strings
    # as UTF-8): left out here; the schema's rejection of it is checked with Python's engine in the corpus test.
    cases = [case for case in invalid_cases() if case.get("schema") and case.get("path") is not None
             and case.get("file") != "lone-surrogate.json"]
    files = {str(case_path(case, tmp_path)): case for case in cases}
    result = subprocess.run([executable, "--schemafile", str(SCHEMA_FILE), "-o", "json", *files],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    found: dict[str, set[str]] = {}
    for error in report["errors"]:
        path = error["path"].removeprefix("$").removeprefix(".")
        # A missing or an unknown key is reported at its object; reelforge names the key.
        named = (re.match(r"'([^']+)' is a required property", error["message"])
                 or re.search(r"\('([^']+)' was unexpected\)", error["message"]))
        if named:
            path = f"{path}.{named.group(1)}" if path else named.group(1)
        found.setdefault(error["filename"], set()).add(path)
    wrong = {}
    for name, case in files.items():
        paths = found.get(name, set())
        if case["path"] not in paths:
            wrong[case_id(case)] = (case["path"], sorted(paths))
    assert wrong == {}, wrong
