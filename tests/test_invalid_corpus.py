"""The invalid corpus (tests/invalid/): every fault is reported at its JSON path with an actionable message."""

from __future__ import annotations

import json

import pytest

from conftest import INVALID, case_id, case_path, invalid_cases
from reelforge.document.loader import load_document
from reelforge.errors import DocumentError

CASES = invalid_cases()


def test_the_corpus_is_large_and_every_file_is_listed():
    listed = {case["file"] for case in CASES if "file" in case}
    on_disk = {path.name for path in INVALID.iterdir() if path.name != "manifest.json"}
    assert listed == on_disk
    assert len(CASES) >= 30
    assert len({case["fault"] for case in CASES}) == len(CASES), "each case is a distinct fault"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fault_is_reported_at_its_path(case, tmp_path):
    with pytest.raises(DocumentError) as caught:
        load_document(case_path(case, tmp_path))
    lines = [str(problem) for problem in caught.value.problems if problem.severity == "error"]
    expected_start = f"{case['path'] or '(document)'}: "
    assert any(line.startswith(expected_start) and case["message"] in line for line in lines), (
        f"{case_id(case)} ({case['fault']}): expected {expected_start}…{case['message']}…, got {lines}"
    )
    for line in lines:
        assert "\n" not in line and "Traceback" not in line


@pytest.mark.parametrize("case", [case for case in CASES if "schema" in case], ids=case_id)
def test_schema_judgeable_files_are_json_objects(case):
    assert isinstance(json.loads((INVALID / case["file"]).read_text(encoding="utf-8")), dict)
