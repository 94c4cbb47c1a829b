"""Running ffmpeg: the bundled binary, progress from `-progress`, cancellation that stops it at once."""

from __future__ import annotations

import subprocess
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping, Sequence

from reelforge.errors import RenderCancelled, RenderError
from reelforge.progress import CancelToken


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RenderError("imageio-ffmpeg is not installed: run `make setup` (pip install 'reelforge[render]')") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    cancel: CancelToken | None = None,
    on_frame: Callable[[int], None] | None = None,
    what: str = "ffmpeg",
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ffmpeg with `args`; report output frames as they come; return stderr. Raises on failure/cancel.

    `env`: the child's environment (ours when None); a run that draws text passes `fonts.fontconfig_env`'s."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats", *args]
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                               env=dict(env) if env is not None else None)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    watcher_done = threading.Event()

    def watch_cancel() -> None:
        while not watcher_done.wait(0.05):
            if cancel is not None and cancel.cancelled:
                process.kill()
                return

    watcher = threading.Thread(target=watch_cancel, daemon=True)
    watcher.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if on_frame is not None and line.startswith("frame="):
                value = line.split("=", 1)[1].strip()
                if value.isdigit():
                    on_frame(int(value))
        process.wait()
    finally:
        watcher_done.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
    if cancel is not None and cancel.cancelled:
        raise RenderCancelled()
    stderr = "".join(stderr_lines)
    if process.returncode != 0:
        detail = stderr.strip().splitlines()[-3:] if stderr.strip() else [f"exit code {process.returncode}"]
        raise RenderError(f"{what} failed: {' | '.join(detail)}")
    return stderr
