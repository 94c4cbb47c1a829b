"""The public names of `reelforge`: importable as the README says, never shadowed by a subpackage, and cheap."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import reelforge


def test_no_public_name_is_also_a_module_of_the_package():
    # `from reelforge import render` once gave the subpackage reelforge.render, not the function.
    clashes = [name for name in reelforge.__all__ if name != "edit" and not name.startswith("__")
               and importlib.util.find_spec(f"reelforge.{name}") is not None]
    assert clashes == []


def test_every_public_name_is_what_it_says_in_a_fresh_process_whatever_was_imported_first():
    names = [name for name in reelforge.__all__ if not name.startswith("__")]
    code = (
        "import importlib, pkgutil, json, inspect, reelforge\n"
        # import every stage first, as a long-running program would have: no attribute may be replaced by a module
        "for mod in ['reelforge.job', 'reelforge.renderers.ffmpeg.pipeline', 'reelforge.renderers.preview',\n"
        "            'reelforge.editing.project', 'reelforge.progress', 'reelforge.document.loader']:\n"
        "    importlib.import_module(mod)\n"
        f"names = {names!r}\n"
        "from reelforge import CancelToken, render\n"
        "kinds = {name: type(getattr(reelforge, name)).__name__ for name in names}\n"
        "print(json.dumps({'render': callable(render) and inspect.isfunction(render), 'kinds': kinds}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    timeout=60).stdout)
    assert out["render"] is True
    modules = sorted(name for name, kind in out["kinds"].items() if kind == "module")
    assert modules == ["edit"]  # the edit operations, a module on purpose: edit.update_scene(...)


def test_importing_reelforge_and_its_model_loads_no_heavy_package():
    code = ("import sys, reelforge, reelforge.model, reelforge.job; "
            "heavy = [m for m in ('numpy', 'av', 'piper', 'manim', 'moviepy', 'textual', 'onnxruntime') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_render_job_round_trips_through_json(tmp_path):
    from reelforge import RenderJob

    job = RenderJob.of({"version": "1", "name": "x", "scenes": []}, tmp_path / "out.mp4", quality="draft",
                       base_dir=tmp_path, workers=3, backend="moviepy")
    again = RenderJob.from_json(job.to_json())
    assert again == job and again.base_dir == str(tmp_path) and again.output == str(tmp_path / "out.mp4")
    from_path = RenderJob.of("relative.json")
    assert from_path.document.endswith("/relative.json") and from_path.base_dir is None


def test_only_the_edges_read_the_environment():
    """A library module that read $REELFORGE_CACHE at each call let an editor's late worker write into another
    module's cache (the parity test's flake): the environment is read at the edges only, once."""
    import re

    allowed = {
        "cli.py",  # the command line, an edge
        "workspace.py",  # Workspace.from_environment, which only the edges call
        "fonts.py",  # passes our environment on to a child process, adding its fontconfig
        "service/cli_commands.py",  # `reelforge serve` and `keys`: the service's settings at its start, an edge
    }
    source = Path(reelforge.__file__).parent
    readers = sorted(str(path.relative_to(source)) for path in source.rglob("*.py")
                     if re.search(r"os\.environ|os\.getenv|environ\.get", path.read_text(encoding="utf-8")))
    assert set(readers) <= allowed, sorted(set(readers) - allowed)


def test_the_command_line_builds_its_parser_without_loading_heavy_packages():
    # `reelforge frame` and `validate` pay for what they use, not for every command's libraries
    code = ("import sys; from reelforge.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('numpy', 'av', 'pydantic', 'faster_whisper', 'opentimelineio', 'fastapi', "
            "'importlib.metadata', 'dask', 'distributed') if m in sys.modules]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_frame_is_written_as_a_png_any_reader_takes():
    import numpy as np
    from PIL import Image

    from reelforge.renderers.preview import png_bytes

    rng = np.random.default_rng(7)
    for height, width in [(1, 1), (3, 5), (1920, 1080)]:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        pixels[: height // 2] = (12, 200, 40)  # flat areas as well as noise
        import io

        image = Image.open(io.BytesIO(png_bytes(pixels)))
        image.load()
        assert image.mode == "RGB" and image.size == (width, height)
        assert np.array_equal(np.asarray(image), pixels)
