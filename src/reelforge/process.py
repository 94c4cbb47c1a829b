"""Child processes that never outlive reelforge, and running ffmpeg: the bundled binary, progress from `-progress`,
cancellation that stops it at once.

Every child (ffmpeg, the card worker, the card worker's own ffmpeg) is started by `start_child`: in a process
group of its own (so killing it takes whatever it started too) and, on Linux, with the kernel told to SIGKILL it
when the thread that started it dies (PR_SET_PDEATHSIG, set by util-linux's `setpriv` before it runs the
program), so a reelforge killed with SIGKILL takes its children along instead of leaving them to finish alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from reelforge.errors import RenderCancelled, RenderError
from reelforge.progress import CancelToken


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RenderError("imageio-ffmpeg is not installed: run `make setup` (pip install 'reelforge[render]')") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


@lru_cache(maxsize=1)
def _death_signal_prefix() -> tuple[str, ...]:
    """The command prefix that makes a child die with its parent: `setpriv --pdeathsig KILL --` where it exists."""
    if not sys.platform.startswith("linux"):
        return ()
    setpriv = shutil.which("setpriv")
    return (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()


def start_child(command: Sequence[str], *, dies_with_parent: bool = True, **popen: Any) -> subprocess.Popen:
    """Popen `command` in its own process group; with `dies_with_parent`, killed by the kernel when the calling
    thread's process dies. (A child whose only tie is a pipe to us, such as a frame streamer, may leave it off:
    it gets SIGPIPE as soon as we are gone.)"""
    prefix = _death_signal_prefix() if dies_with_parent else ()
    return subprocess.Popen([*prefix, *command], process_group=0, **popen)


def stop_child(process: subprocess.Popen) -> None:
    """Kill a child started by `start_child` and everything in its process group, and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a SIGKILLed process is reaped at once
        pass


def run_ffmpeg(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    cancel: CancelToken | None = None,
    on_frame: Callable[[int], None] | None = None,
    what: str = "ffmpeg",
    env: Mapping[str, str] | None = None,
    loglevel: str = "error",
) -> str:
    """Run ffmpeg with `args`; report output frames as they come; return stderr. Raises on failure/cancel.

    `env`: the child's environment (ours when None); a run that draws text passes `fonts.fontconfig_env`'s.
    `loglevel`: "info" keeps filter reports (ebur128's summary) in the returned stderr."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", loglevel, "-progress", "pipe:1", "-nostats",
               *args]
    process = start_child(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                          env=dict(env) if env is not None else None)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    watcher_done = threading.Event()

    def watch_cancel() -> None:
        while not watcher_done.wait(0.05):
            if cancel is not None and cancel.cancelled:
                stop_child(process)
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
        stop_child(process)
        reader.join(timeout=5)
    if cancel is not None and cancel.cancelled:
        raise RenderCancelled()
    stderr = "".join(stderr_lines)
    if process.returncode != 0:
        detail = stderr.strip().splitlines()[-3:] if stderr.strip() else [f"exit code {process.returncode}"]
        raise RenderError(f"{what} failed: {' | '.join(detail)}")
    return stderr
