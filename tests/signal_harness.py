"""Run one CLI render, signal it at a given moment, and report what it left: a helper process for test_hostile.

    python signal_harness.py SIGNAL MOMENT WORKDIR -- reelforge render ...

This process makes itself a child subreaper, so whatever the render started and leaves behind (ffmpeg, the card
worker) becomes its child when the render dies, and can be listed one second later. MOMENT: "preparing" (half a
second after the start), "rendering" (when the first video run has written its first piece), "muxing" (when
the mux's video input is written: the pieces joined into video.mp4, or the concat demuxer's segments.txt).
Prints one JSON object: {"returncode", "signalled", "alive", "stderr"}.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def moment_reached(moment: str, work: Path, started: float) -> bool:
    if moment == "preparing":
        return time.monotonic() - started > 0.5
    if moment == "rendering":
        return any(work.glob("render-*/run*/piece*.mp4"))
    if moment == "muxing":  # the mux's video input is being written: the joined pieces, or the concat list
        return any(work.glob("render-*/video.mp4")) or any(work.glob("render-*/segments.txt"))
    raise SystemExit(f"unknown moment {moment}")


def children() -> list[tuple[int, str]]:
    """Processes whose parent is this one (the render's orphans among them), with their command lines."""
    found = []
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("PPid", "").strip() == me and not fields.get("State", "").startswith("Z"):
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError):
            continue
    return found


def main(argv: list[str]) -> int:
    name, moment, work = argv[1], argv[2], Path(argv[3])
    command = argv[argv.index("--") + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(json.dumps({"error": "cannot become a subreaper"}))
        return 3
    started = time.monotonic()
    render = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    signalled = False
    while render.poll() is None and time.monotonic() - started < 300:
        if moment_reached(moment, work, started):
            render.send_signal(getattr(signal, name))
            signalled = True
            break
        time.sleep(0.01)
    try:
        stdout, stderr = render.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        render.kill()
        stdout, stderr = render.communicate()
    time.sleep(1.0)  # what dies with the render is gone by now
    alive = children()
    for pid, _ in alive:  # leave nothing behind ourselves
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    print(json.dumps({"returncode": render.returncode, "signalled": signalled, "alive": [cmd for _, cmd in alive],
                      "stderr": stderr, "stdout": stdout}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
