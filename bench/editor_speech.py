"""A one-scene narration edit in the editor: from the user's `t` to the row showing the new exact length.

Run from the repository root: `.venv/bin/python -m bench.editor_speech [--rounds 5] [--read-seconds 2]`.

Each round is a fresh Python process that opens templates/demo.json (its narration already in the cache, as
after a render; the voice's patched model too) in the editor, headless at 120x36, waits `--read-seconds` (the
user reads the screen and types; 0 gives the worst case, `t` pressed as the editor paints), adds a sentence to
the second scene's narration through the form, presses `t` and stops the clock when the scene's row shows an
exact length again. Rounds alternate the editor as it is (the voice loaded in the background once painted) and
with that warm-up turned off (the voice loaded when `t` asks for it), so both are measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_ROUND = r"""
import asyncio, sys, time
from pathlib import Path
from editor_tui.app import EditorApp
from editor_tui.widgets.scene_list import SceneList

async def main(path, read_seconds, warm):
    app = EditorApp(Path(path), warm_voice=warm)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await asyncio.sleep(read_seconds)
        scene = app.state.document.scenes[1]
        table = app.screen.query_one(SceneList)
        table.focus()
        table.move_cursor(row=1)
        await pilot.pause()
        app.screen.query_one("#narration").load_text(scene.narration.text + " And the tide comes back at night.")
        while app.state.speech_state(app.state.scene(scene.id)) != "stale":
            await pilot.pause(0.01)
        table.focus()
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("t")
        while True:
            row = next(r for r in app.state.rows() if r.scene_id == scene.id)
            if scene.id not in app.state.speaking and row.exact:
                break
            await pilot.pause(0.005)
        print(f"{time.perf_counter() - started:.4f}")

asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3] == "warm"))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--read-seconds", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="editor-speech-") as tmp:
        folder = Path(tmp)
        shutil.copytree(REPO / "templates", folder / "templates")
        project = folder / "templates" / "demo.json"
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["REELFORGE_CACHE"] = str(folder / "cache")
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        # As after a render: every narration in the cache (and the voice's patched model).
        subprocess.run([sys.executable, "-m", "reelforge", "timeline", str(project)], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        pristine = project.read_text(encoding="utf-8")
        tts = folder / "cache" / "tts"
        baseline = {path for path in tts.rglob("*")}
        seconds: dict[str, list[float]] = {"warm": [], "cold": []}
        for number in range(args.rounds):
            for mode in ("cold", "warm"):
                project.write_text(pristine, encoding="utf-8")
                for stale in (folder / "templates").glob("*.autosave*"):
                    stale.unlink()
                result = subprocess.run([sys.executable, "-c", _ROUND, str(project), str(args.read_seconds), mode],
                                        capture_output=True, text=True, cwd=REPO, timeout=300, env=env)
                if result.returncode != 0:
                    print(result.stderr, file=sys.stderr)
                    return 1
                seconds[mode].append(float(result.stdout.strip().splitlines()[-1]))
                # what this round spoke (the new narration, its new sentence) is cached now: forget it, so every
                # round speaks it again; the scene's unchanged sentences stay cached, as they would be
                for path in sorted(set(tts.rglob("*")) - baseline, reverse=True):
                    path.rmdir() if path.is_dir() else path.unlink()
            print(f"round {number + 1}: voice loaded when t asks {seconds['cold'][-1]:.3f} s, "
                  f"loaded in the background {seconds['warm'][-1]:.3f} s", flush=True)
    medians = {mode: statistics.median(values) for mode, values in seconds.items()}
    print(json.dumps({"machine": {"nproc": os.cpu_count(), "load": os.getloadavg()}, "read_seconds": args.read_seconds,
                      "seconds": seconds, "median": medians}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
