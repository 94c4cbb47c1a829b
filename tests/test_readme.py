"""Every code block of the README runs as it is written (examples are tests): ```python blocks as a program of
their own, ```sh blocks with bash -e, both in a folder holding `project.json` (the demo template), a copy of
`templates/` and `.venv/` (this interpreter's environment). A block preceded by
`<!-- readme-test: skip (REASON) -->` is not run; the reason must be given."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
SKIP = re.compile(r"^<!-- readme-test: skip \((?P<reason>[^)]+)\) -->$")
FENCE = re.compile(r"^```(?P<language>[\w-]*)\s*$")
# Files a block names that it writes: `-o FILE`, `> FILE`, or a quoted name with one of these suffixes.
WRITES_SH = re.compile(r"(?:-o|>)\s+(?P<name>[\w./-]+\.\w+)")
WRITES_PY = re.compile(r"[\"'](?P<name>[\w./-]+\.(?:mp4|png|json|srt|vtt|wav))[\"']")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip_reason: str | None

    @property
    def name(self) -> str:
        first = next((line for line in self.code.splitlines() if line.strip()), "")
        return f"L{self.line}-{self.language}-{re.sub(r'[^A-Za-z0-9]+', '-', first)[:40].strip('-')}"


def readme_blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        skip = SKIP.match(lines[index - 1]) if index else None
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        blocks.append(Block(index + 1, opening["language"], "\n".join(lines[index + 1:end]) + "\n",
                            skip["reason"] if skip else None))
        index = end + 1
    return blocks


BLOCKS = readme_blocks()
RUN = [block for block in BLOCKS if block.skip_reason is None]


def test_every_block_is_run_or_skipped_with_a_reason():
    assert len(BLOCKS) >= 8
    for block in BLOCKS:
        assert block.language in ("sh", "python"), f"README line {block.line}: a ```{block.language} block"
        if block.skip_reason is not None:
            assert len(block.skip_reason.split()) >= 3, f"README line {block.line}: say why the block is not run"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a newcomer would run the examples: the demo as project.json, the templates, the venv."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copyfile(REPO / "templates" / "demo.json", root / "project.json")
    (root / ".venv").symlink_to(Path(sys.executable).resolve().parent.parent if not (REPO / ".venv").exists()
                                else REPO / ".venv")
    return root


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "REELFORGE_DEBUG"}
    env["REELFORGE_CACHE"] = str(tmp_path_factory.mktemp("readme-cache"))  # shared by the blocks, in order
    return env


@pytest.mark.slow  # the examples render the demo (draft quality) and speak its narration
@pytest.mark.parametrize("block", RUN, ids=[block.name for block in RUN])
def test_the_block_runs(block: Block, folder: Path, environment: dict[str, str]):
    pattern = WRITES_PY if block.language == "python" else WRITES_SH
    written = {match["name"] for match in pattern.finditer(block.code)} - {p.name for p in folder.iterdir()}
    if block.language == "python":
        command = [sys.executable, "-c", block.code]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.code]
    result = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"README line {block.line} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    missing = sorted(name for name in written if not (folder / name).is_file() or (folder / name).stat().st_size == 0)
    assert not missing, f"README line {block.line} says it writes {missing}, which are not there"


def test_the_badge_text_of_the_moviepy_example_is_not_clipped():
    """MoviePy sizes a label by the font's ascent only: without a margin, "my channel" loses its descenders."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("moviepy")
    from moviepy import TextClip

    from reelforge.fonts import font_file

    block = next(block for block in BLOCKS if "TextClip(" in block.code)
    call = re.search(r"TextClip\(.*?\)(?=\n)", block.code)
    assert call, "the example makes its badge with TextClip(...) on one line"
    badge = eval(call.group(0), {"TextClip": TextClip, "font_file": font_file})  # noqa: S307 - our own README
    mask = badge.mask.get_frame(0)
    assert mask.max() > 0.5  # there is text
    assert np.max(mask[-2:]) < 0.05, "ink in the bottom rows: the descenders are cut off"
