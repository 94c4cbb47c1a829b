"""Every file in templates/ validates through the CLI with no warnings, and its assets are up to date."""

from __future__ import annotations

import struct
import subprocess
import sys
import wave
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").glob("*.json"))
ASSETS = ROOT / "templates" / "assets"


def reelforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reelforge", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_expected_templates_are_there():
    names = {path.name for path in TEMPLATES}
    assert {"demo.json", "listicle.json", "quiz.json", "avs-v1-example.json", "avs-v1-request.json"} <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_template_validates_without_warnings(template):
    result = reelforge("validate", str(template.relative_to(ROOT)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"warnings or errors:\n{result.stderr}"
    assert ": valid: " in result.stdout


def test_all_templates_validate_in_one_call():
    result = reelforge("validate", *(str(path.relative_to(ROOT)) for path in TEMPLATES))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.count(": valid: ") == len(TEMPLATES)


def test_listicle_has_five_numbered_items_and_an_end_card():
    from reelforge.document.loader import load_document

    document = load_document(ROOT / "templates" / "listicle.json").document
    cards = [scene.visual.card for scene in document.scenes if scene.visual.type == "card"]
    assert [card.number for card in cards if card.card == "list_item"] == [1, 2, 3, 4, 5]
    assert cards[-1].card == "end"
    assert document.output.aspect_ratio == "9:16"


def test_quiz_has_title_quiz_and_end_cards():
    from reelforge.document.loader import load_document

    document = load_document(ROOT / "templates" / "quiz.json").document
    kinds = [scene.visual.card.card for scene in document.scenes]
    assert kinds[0] == "title" and kinds[-1] == "end" and kinds.count("quiz") >= 2


def test_request_body_overrides_the_template_output():
    from reelforge.document.loader import load_document

    document = load_document(ROOT / "templates" / "avs-v1-request.json").document
    assert (document.output.aspect_ratio, document.output.quality) == ("16:9", "draft")


def test_committed_assets_are_what_the_script_makes():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_template_assets.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_assets_are_small_and_well_formed():
    png = (ASSETS / "backdrop.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 200 * 1024
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1080, 1920)
    assert (ASSETS / "tone.wav").stat().st_size < 200 * 1024
    with wave.open(str(ASSETS / "tone.wav")) as tone:
        assert (tone.getnchannels(), tone.getsampwidth()) == (1, 2)
        assert tone.getnframes() / tone.getframerate() == pytest.approx(4.0)
