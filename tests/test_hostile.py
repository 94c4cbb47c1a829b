"""reelforge probed as a hostile user would: mutated documents by the thousand, signals at every stage of a render,
and the one-line answers owed for bad paths and odd media. Each probe is one that once found a fault."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENE_DOCUMENT, run_cli, slow, valid_documents
from reelforge.document.loader import parse_json, validate_data
from reelforge.errors import DocumentError

HARNESS = Path(__file__).with_name("signal_harness.py")

# -- ten thousand mutated documents --------------------------------------------------------------------------

ODD_TEXT = ["²", "①", "٣", "ok\ud800", "\udfff", "", " ", "\x00", "é" * 300, "🎬" * 80, "-1", "1e999", "NaN", "$schema"]
ODD_NUMBERS = [float("nan"), float("inf"), -float("inf"), 10**400, -(10**400), 1e308, -0.0, 2**63, 0.1 + 0.2, 1e-320]
ODD_JSON = ["NaN", "Infinity", "-Infinity", "1" * 5000, "[" * 3000 + "]" * 3000, '{"a":' * 2000 + "1" + "}" * 2000]


def mutate(value, rng: random.Random, depth: int = 0):
    """`value` with one random part replaced, removed, duplicated or made odd."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        changed = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del changed[key]
        elif roll < 0.25:
            changed[rng.choice(ODD_TEXT)] = changed[key]
        else:
            changed[key] = mutate(value[key], rng, depth + 1)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.8:
        changed = list(value)
        index = rng.randrange(len(changed))
        roll = rng.random()
        if roll < 0.2:
            del changed[index]
        elif roll < 0.35:
            changed.append(changed[index])  # the same value twice (json.dumps writes it out twice)
        else:
            changed[index] = mutate(changed[index], rng, depth + 1)
        return changed
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(ODD_TEXT)
    if roll < 0.55:
        return rng.choice(ODD_NUMBERS)
    if roll < 0.65:
        nested = rng.choice([0, 1, "x", None])
        for _ in range(rng.choice([1, 50, 400])):  # deeper nesting comes as text (ODD_JSON)
            nested = [nested] if rng.random() < 0.5 else {"k": nested}
        return nested
    return rng.choice([None, True, False, 0, -1, 3.5, "text", [], {}, "#zzz", "9:16", "draft"])


def to_text(value, rng: random.Random) -> str | bytes:
    text = json.dumps(value, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    roll = rng.random()
    if roll < 0.08:  # truncated
        return text[: rng.randrange(len(text) + 1)]
    if roll < 0.12:
        return text.encode("utf-8", "surrogatepass")[: rng.randrange(len(text) + 1)]
    if roll < 0.16:
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice(ODD_JSON) + text[position:]
    return text


def test_ten_thousand_mutated_documents_give_only_document_errors():
    rng = random.Random(20261201)
    bases = [document for _, document in valid_documents()]
    outcomes = {"valid": 0, "invalid": 0}
    for number in range(10_000):
        document = rng.choice(bases)
        for _ in range(rng.choice([1, 1, 2, 3])):
            document = mutate(document, rng)
        text = to_text(document, rng)
        try:
            validate_data(parse_json(text))
            outcomes["valid"] += 1
        except DocumentError as error:
            assert error.problems and all(isinstance(p.message, str) and "\n" not in p.message for p in error.problems)
            outcomes["invalid"] += 1
        except Exception as error:  # noqa: BLE001 - exactly what this test looks for
            pytest.fail(f"document {number} raised {type(error).__name__}: {error}\n{str(text)[:500]}")
    assert outcomes["valid"] > 300 and outcomes["invalid"] > 5000, outcomes  # both kinds were reached


def test_the_schema_and_the_loader_agree_on_mutated_documents(schema_validator):
    """Where a JSON Schema can state the rule, the published schema accepts exactly what the loader accepts."""
    rng = random.Random(7)
    bases = [document for _, document in valid_documents()]
    disagreements = []
    for number in range(2_000):
        document = rng.choice(bases)
        for _ in range(rng.choice([1, 2])):
            document = mutate(document, rng)
        try:
            data = parse_json(json.dumps(document, allow_nan=True))
        except DocumentError:
            continue  # not JSON: nothing for a schema to say
        try:
            validate_data(data)
            loader_ok = True
        except DocumentError:
            loader_ok = False
        schema_ok = schema_validator.is_valid(data)
        if loader_ok != schema_ok:
            disagreements.append((number, loader_ok, schema_ok, json.dumps(data)[:300]))
    assert disagreements == []


def test_a_version_of_unicode_digits_is_an_unknown_version():
    for version in ("²", "①", "٣"):
        with pytest.raises(DocumentError, match="unknown version"):
            validate_data({**SCENE_DOCUMENT, "version": version})


# -- signals at every stage of a render -------------------------------------------------------------------------


def signal_document(folder: Path) -> Path:
    """Long enough at draft quality to be caught while narrating, rendering and muxing."""
    document = {
        "version": "1", "name": "Signals", "output": {"quality": "draft", "aspectRatio": "16:9", "resolution": "720p"},
        "scenes": [
            {"id": "one", "narration": {"text": "The first scene speaks a little while."},
             "visual": {"type": "gradient", "colors": ["#102030", "#a04010"]}, "padding": 2},
            {"id": "two", "duration": 6, "visual": {"type": "color", "color": "#305070"},
             "overlays": [{"text": "Overlay text"}]},
            {"id": "three", "duration": 4, "visual": {"type": "gradient", "colors": ["#203010", "#104080"]}},
        ],
    }
    path = folder / "signals.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run_signalled(name: str, moment: str, document: Path, out: Path, cache: Path) -> dict:
    script = Path(sys.executable).parent / "reelforge"
    command = [sys.executable, str(HARNESS), name, moment, str(cache / "work"), "--",
               str(script), "render", str(document), "-o", str(out), "-q"]
    env = {**os.environ, "REELFORGE_CACHE": str(cache)}
    env.pop("REELFORGE_DEBUG", None)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def litter(out: Path, cache: Path) -> list[str]:
    partials = [p.name for p in out.parent.iterdir() if ".partial" in p.name]
    work = [p.name for p in (cache / "work").iterdir()] if (cache / "work").exists() else []
    return partials + work


@slow("piper")
@pytest.mark.parametrize("moment", ["preparing", "rendering", "muxing"])
@pytest.mark.parametrize("name, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGKILL", -9)])
def test_a_signalled_render_leaves_no_process_no_litter_and_the_old_output(tmp_path: Path, name: str, code: int,
                                                                             moment: str):
    document = signal_document(tmp_path)
    out = tmp_path / "out" / "video.mp4"
    out.parent.mkdir()
    out.write_bytes(b"the previous render")
    # The mux of this small video lasts a fraction of a second: on a busy machine the harness can wake after it
    # ended. Such a run proves nothing either way, so it is run again (a fresh cache: the same work to do).
    for attempt in range(1, 4):
        cache = tmp_path / f"cache-{attempt}"
        report = run_signalled(name, moment, document, out, cache)
        if report["signalled"]:
            break
        assert report["returncode"] == 0 and out.read_bytes() != b"the previous render", report["stderr"]
        out.write_bytes(b"the previous render")
    assert report["signalled"], f"the render ended before the {moment} moment three times: {report['stderr']}"
    assert report["returncode"] == code, report["stderr"]
    assert report["alive"] == [], f"still running a second after {name}: {report['alive']}"
    assert out.read_bytes() == b"the previous render"
    if name != "SIGKILL":
        assert "Traceback" not in report["stderr"]
        assert len(report["stderr"].strip().splitlines()) == 1, report["stderr"]
        assert litter(out, cache) == [], "a clean stop cleans up at once"
    # The next render sweeps whatever a killed one left, and finishes.
    again = run_cli("render", document, "-o", out, "-q", env={"REELFORGE_CACHE": str(cache)})
    assert again.returncode == 0, again.stderr
    assert out.stat().st_size > 10_000
    assert litter(out, cache) == []


# -- bad paths get a sentence ---------------------------------------------------------------------------------


def color_file(folder: Path, **changes) -> Path:
    document = {"version": "1", "name": "Color", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
                "scenes": [{"id": "a", "duration": 1, "visual": {"type": "color", "color": "#336699"}}], **changes}
    path = folder / "color.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def one_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout and "internal error" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_output_path_that_is_a_folder_is_one_line(tmp_path: Path):
    folder = tmp_path / "out.mp4"
    folder.mkdir()
    line = one_line(run_cli("render", color_file(tmp_path), "-o", folder, "-q"))
    assert "is a folder" in line and list(folder.iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path: Path):
    folder = tmp_path / "ro"
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@slow()
def test_an_output_folder_on_a_read_only_file_system_is_one_line_and_leaks_nothing(tmp_path: Path, read_only_folder):
    cache = tmp_path / "cache"
    line = one_line(run_cli("render", color_file(tmp_path), "-o", read_only_folder / "out.mp4", "-q",
                            env={"REELFORGE_CACHE": str(cache)}))
    assert "read-only" in line
    assert not (cache / "work").exists() or list((cache / "work").iterdir()) == []


def test_new_into_a_folder_that_does_not_exist_makes_it(tmp_path: Path):
    script = tmp_path / "script.md"
    script.write_text("# A title\n\nOne scene.\n", encoding="utf-8")
    result = run_cli("new", "--from-text", script, "-o", tmp_path / "new" / "deeper" / "p.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "new" / "deeper" / "p.json").read_text())["scenes"]


@slow()
def test_a_frame_past_the_end_says_how_long_the_video_is(tmp_path: Path):
    line = one_line(run_cli("frame", color_file(tmp_path), "--at", "99", "-o", tmp_path / "f.png"))
    assert "lasts 1.00 s" in line and not (tmp_path / "f.png").exists()


@pytest.mark.parametrize("key, value", [("uploadName", "é" * 200), ("path", "/".join(["x" * 300] * 2))])
@pytest.mark.parametrize("command", ["validate", "render", "timeline"])
def test_a_file_name_no_file_system_holds_is_one_line_everywhere(tmp_path: Path, key: str, value: str, command: str):
    document = color_file(tmp_path, scenes=[{"id": "a", "duration": 1,
                                             "visual": {"type": "image", "source": {key: value}}}])
    extra = ["-o", tmp_path / "out.mp4"] if command == "render" else []
    line = one_line(run_cli(command, document, *extra))
    assert "bytes long; file systems allow 255" in line and f"scenes[0].visual.source.{key}" in line


# -- odd pictures ---------------------------------------------------------------------------------------------


@slow()
@pytest.mark.parametrize("size", [(1, 1), (2, 2), (2000, 1), (1, 2000), (3, 5)])
@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_tiny_and_thin_pictures_render(tmp_path: Path, size: tuple[int, int], fit: str):
    from PIL import Image

    from mediatools import probe, video_frames

    Image.new("RGB", size, (220, 40, 40)).save(tmp_path / "tiny.png")
    document = color_file(tmp_path, scenes=[{"id": "a", "duration": 1, "visual": {
        "type": "image", "source": {"path": "tiny.png"}, "fit": fit, "motion": "zoom_in"}}])
    result = run_cli("render", document, "-o", tmp_path / "tiny.mp4", "-q")
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "tiny.mp4").video.packets == 30
    middle = video_frames(tmp_path / "tiny.mp4", [15])[15][180, 180]
    assert middle[0] > 150 and middle[1] < 90, middle  # the picture's red, at the centre


@slow()
def test_a_picture_of_too_many_pixels_is_refused_before_it_is_decoded(tmp_path: Path):
    from PIL import Image

    Image.new("L", (10_000, 10_000)).save(tmp_path / "huge.png", optimize=True)
    assert (tmp_path / "huge.png").stat().st_size < 500_000
    document = color_file(tmp_path, scenes=[{"id": "a", "duration": 1, "visual": {
        "type": "image", "source": {"path": "huge.png"}}}])
    # The peak from /proc (VmHWM starts afresh at exec; getrusage's ru_maxrss would carry pytest's own peak).
    code = ("import re, sys; from reelforge.cli import main; code = main(sys.argv[1:]); "
            "status = open('/proc/self/status').read(); "
            "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) // 1024); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, "render", str(document), "-o", str(tmp_path / "o.mp4"), "-q"],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "REELFORGE_CACHE": str(tmp_path / "cache")})
    line = one_line(result)
    assert "10000x10000 (100 megapixels); the limit is 50" in line
    assert int(result.stdout.strip()) < 250, "megabytes: the picture was decoded"


def test_the_limit_message_shows_the_fault(tmp_path: Path):
    from reelforge.document.loader import load_document

    scenes = [{"id": f"s{i}", "duration": 60, "visual": {"type": "color", "color": "#000000"}} for i in range(10)]
    scenes.append({"id": "last", "duration": 0.4, "visual": {"type": "color", "color": "#000000"}})
    with pytest.raises(DocumentError, match=r"would last 600\.4 s; the limit is 600 s"):
        load_document({**SCENE_DOCUMENT, "scenes": scenes})

