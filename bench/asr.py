"""Speech recognition and forced alignment: accuracy against piper's exact word times, WER, speed, memory.

Run from the repository root: `.venv/bin/python -m bench.asr [--hour-minutes 60] [--repeats 3] [--takes 3]
[--calibrate]` (about 10 minutes with the 1-hour file; `--hour-minutes 0` skips it). Needs the `all` extra and
espeak-ng.

- Ground truth: piper (the bundled en_US-joe-medium voice, through `reelforge.speech.tts.synthesize`) speaks
  TEST_TEXT (22 sentences, 239 words: numbers, abbreviations, names, questions); its word times come from the
  voice model's own phoneme durations, exact to the sample.
- Alignment: `recorded_speech(wav, TEST_TEXT)` (a fresh cache each run); |start error| and |end error| per word,
  pooled over `--takes` syntheses (piper's durations vary a little from one to the next).
  `--calibrate` also fits the DTW offset (`align.DTW_OFFSET`) on CALIBRATION_TEXT, an independent text.
- Recognition: word error rate (`text.word_error_rate`) on the piper audio and on espeak-ng (`en-us`) reading the
  same text, and the start error of the recognized (then aligned) words that match the reference.
- Speed: real-time factor (processing seconds / audio seconds, median of `--repeats`, model already loaded) of
  align and of recognize; model load time (median of 3 fresh processes).
- Memory: `reelforge transcribe` of a file of `--hour-minutes` minutes (the piper audio repeated) in its own
  process: peak RSS (VmHWM) and wall time.
Every run blocks sockets in this process (a hub download attempt fails loudly). Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import difflib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

TEST_TEXT = "\n".join([
    "Welcome to this short tour of the city archive.",
    "Dr. Smith opened the building in 1987 with a budget of 1,200 dollars.",
    "Can you guess how many visitors came on the first day?",
    "Only forty-two people arrived, and most of them were students.",
    "Today the collection holds more than 350,000 photographs, maps, and letters.",
    "Wow!",
    "The oldest map was drawn by a sailor named Jonathan Price around 1640.",
    "It shows the harbor, the river, and a small church that no longer exists.",
    "Why did the church disappear?",
    "A fire in the winter of 1852 destroyed most of the old town.",
    "After the fire, the mayor asked Mrs. Elena Novak to design a new street plan.",
    "Her plan used wide avenues, green parks, and a central market square.",
    "Some people hated it at first.",
    "Within ten years, however, the city had doubled in size.",
    "The archive is open from 9:30 in the morning until 5 in the evening.",
    "Entry is free for children under 12, and adults pay 7 dollars.",
    "Guided tours start every hour, and each one lasts about 45 minutes.",
    "If you prefer to explore alone, you can borrow an audio guide at the front desk.",
    "Please remember that photographs of the rare books are not allowed.",
    "Is there a cafe inside?",
    "Yes, there is a small cafe on the second floor, next to the reading room.",
    "Thank you for listening, and enjoy your visit to the archive.",
])
CALIBRATION_TEXT = "\n".join([
    "Good morning, and thank you for joining this quick product update.",
    "Our team shipped version 4 of the editor last Tuesday.",
    "Did anyone notice that the export button moved to the left?",
    "Mr. Alvarez from the design group suggested the change in March.",
    "Rendering is now about 30% faster on older laptops.",
    "We also fixed 118 bugs, including the crash when opening large files.",
    "Next quarter, we will focus on captions, subtitles, and better audio tools.",
    "Really?",
    "Yes, the new waveform view will arrive before the summer holidays.",
    "Priya Raman and Tom O'Brien are leading that work from the Berlin office.",
    "If you have questions, please send them to the support channel.",
    "The beta program already has 2,400 testers in 19 countries.",
    "How long will the beta last?",
    "It should end around the 15th of June, depending on the feedback we receive.",
    "Thanks again, and see you at the next meeting.",
])


CPU_SECONDS: list[float] = []  # CPU time (all threads) of each align_errors call, in order


def _no_network(*args, **kwargs):
    raise RuntimeError(f"network access attempted: {args!r}")


def piper_truth(text: str, folder: Path):
    """(wav path, Speech with exact word times) for `text` spoken by the bundled piper voice."""
    from reelforge.model.audio import Voice
    from reelforge.speech.tts import synthesize
    from reelforge.workspace import Workspace

    speech = synthesize(text, Voice(), workspace=Workspace(folder / "piper-cache"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"piper-{len(text)}.wav"
    shutil.copyfile(speech.audio_path, path)
    return path, speech


def align_errors(path: Path, text: str, truth, folder: Path, offset: float | None = None):
    """Start and end errors (ms) of aligning `text` to `path`, and the seconds it took (fresh cache)."""
    from reelforge.speech.asr import align as align_module
    from reelforge.speech.asr import recorded_speech
    from reelforge.workspace import Workspace

    saved = align_module.DTW_OFFSET
    if offset is not None:
        align_module.DTW_OFFSET = offset
    try:
        cache = Path(tempfile.mkdtemp(dir=folder))
        started, cpu = time.perf_counter(), time.process_time()
        speech = recorded_speech(path, text, Workspace(cache))
        seconds = time.perf_counter() - started
        CPU_SECONDS.append(time.process_time() - cpu)
    finally:
        align_module.DTW_OFFSET = saved
    assert [w.text for w in speech.words] == [w.text for w in truth.words]
    start = np.array([float(a.start - b.start) for a, b in zip(speech.words, truth.words)]) * 1000
    end = np.array([float(a.end - b.end) for a, b in zip(speech.words, truth.words)]) * 1000
    lengths = np.array([float(w.end - w.start) for w in speech.words])
    return start, end, seconds, lengths


def recognized_start_errors(words, truth) -> np.ndarray:
    """Start errors (ms) of recognized words that match a reference word (after normalization)."""
    from reelforge.speech.asr.text import normalize_words

    def flat(items):
        tokens, owners = [], []
        for index, item in enumerate(items):
            for j, token in enumerate(normalize_words(item.text)):
                tokens.append(token)
                owners.append(index if j == 0 else -1)
        return tokens, owners

    ref, ref_owner = flat(truth.words)
    hyp, hyp_owner = flat(words)
    errors = []
    for block in difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            r, h = ref_owner[block.a + k], hyp_owner[block.b + k]
            if r >= 0 and h >= 0:
                errors.append(float(words[h].start) - float(truth.words[r].start))
    return np.array(errors) * 1000


def model_load_seconds() -> list[float]:
    code = ("import time, socket; socket.socket.connect = None\n"
            "t = time.perf_counter()\nfrom reelforge.speech.asr import load_model\nload_model()\n"
            "print(time.perf_counter() - t)")
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 timeout=300).stdout.strip()) for _ in range(3)]


def long_file(source: Path, minutes: float, folder: Path) -> Path:
    with wave.open(str(source), "rb") as wav:
        params, frames = wav.getparams(), wav.readframes(wav.getnframes())
    path = folder / f"long-{minutes:g}min.wav"
    repeats = int(np.ceil(minutes * 60 * params.framerate / params.nframes))
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        for _ in range(repeats):
            out.writeframes(frames)
    return path


def transcribe_peak(path: Path, folder: Path) -> dict:
    """Run `reelforge transcribe` on `path` in its own process; its peak RSS (VmHWM) and wall time."""
    code = ("import sys, resource\nfrom reelforge.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
            "print('PEAK_KB', status, file=sys.stderr)\nsys.exit(code)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "transcribe", str(path), "-o", str(folder / "hour-out"),
                           "--format", "json", "-q"], capture_output=True, text=True, timeout=7200,
                          env={**os.environ, "REELFORGE_CACHE": str(folder / "hour-cache")})
    wall = time.perf_counter() - started
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KB")]
    return {"returncode": done.returncode, "wall_s": wall, "peak_mb": int(peak[0].split()[1]) / 1024 if peak else None,
            "stdout": done.stdout.strip().splitlines()[:1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--takes", type=int, default=3, help="piper syntheses of the test text pooled for accuracy")
    parser.add_argument("--hour-minutes", type=float, default=60.0, help="length of the memory test file (0: skip)")
    parser.add_argument("--calibrate", action="store_true", help="also fit the DTW offset on the calibration text")
    args = parser.parse_args()
    socket.socket.connect = _no_network  # type: ignore[assignment]

    import ctranslate2
    import faster_whisper

    from reelforge.speech.asr import align as align_module
    from reelforge.speech.asr import load_model, model_folder
    from reelforge.speech.asr.audio import read_pcm
    from reelforge.speech.asr.recognize import recognize_file
    from reelforge.speech.asr.text import word_error_rate

    folder = Path(tempfile.mkdtemp(prefix="reelforge-asr-bench-"))
    loads = model_load_seconds()
    model = load_model()
    # piper's durations vary a little from one synthesis to the next: every figure pools `takes` syntheses
    takes = [piper_truth(TEST_TEXT, folder / f"take-{k}") for k in range(args.takes)]
    path, truth = takes[0]
    audio_s = float(truth.duration)
    pooled = [align_errors(p, TEST_TEXT, t, folder) for p, t in takes]
    start, end, lengths = (np.concatenate([r[i] for r in pooled]) for i in (0, 1, 3))
    CPU_SECONDS.clear()
    runs = [align_errors(path, TEST_TEXT, truth, folder) for _ in range(args.repeats)]
    align_rtf = statistics.median(r[2] for r in runs) / audio_s
    align_cpu = statistics.median(CPU_SECONDS) / audio_s

    recognize_runs, recognize_cpu, words = [], [], []
    for _ in range(args.repeats):
        started, cpu = time.perf_counter(), time.process_time()
        words = recognize_file(model, path)
        recognize_runs.append(time.perf_counter() - started)
        recognize_cpu.append(time.process_time() - cpu)
    recognize_rtf = statistics.median(recognize_runs) / audio_s
    recognize_cpu_rtf = statistics.median(recognize_cpu) / audio_s
    piper_wer = word_error_rate(TEST_TEXT, " ".join(w.text for w in words))
    rec_start = recognized_start_errors(words, truth)
    raw = recognize_file(model, path, align=False)
    raw_start = recognized_start_errors(raw, truth)

    espeak = folder / "espeak.wav"
    text_file = folder / "text.txt"
    text_file.write_text(TEST_TEXT, encoding="utf-8")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(espeak), "-f", str(text_file)], check=True)
    espeak_s = len(read_pcm(espeak)) / 16000
    started = time.perf_counter()
    espeak_words = recognize_file(model, espeak)
    espeak_rtf = (time.perf_counter() - started) / espeak_s
    espeak_wer = word_error_rate(TEST_TEXT, " ".join(w.text for w in espeak_words))

    calibration = None
    if args.calibrate:
        grid = [round(x, 2) for x in np.arange(-0.10, 0.001, 0.01)]
        cal_takes = [piper_truth(CALIBRATION_TEXT, folder / f"cal-{k}") for k in range(args.takes)]
        calibration = {off: float(np.median(np.abs(np.concatenate(
            [align_errors(p, CALIBRATION_TEXT, t, folder, off)[0] for p, t in cal_takes])))) for off in grid}

    hour = None
    if args.hour_minutes > 0:
        hour_path = long_file(path, args.hour_minutes, folder)
        with wave.open(str(hour_path)) as wav:
            hour_s = wav.getnframes() / wav.getframerate()
        hour = {**transcribe_peak(hour_path, folder), "audio_s": hour_s, "bytes": hour_path.stat().st_size}

    def ms(values: np.ndarray, q: float) -> str:
        return f"{np.percentile(np.abs(values), q):.0f} ms"

    load = os.getloadavg()
    print("## Speech recognition and alignment (reelforge.speech.asr)\n")
    print(f"- Command: `.venv/bin/python -m bench.asr{' --calibrate' if args.calibrate else ''}"
          f" --repeats {args.repeats} --hour-minutes {args.hour_minutes:g}`")
    print(f"- Machine: `nproc` = {os.cpu_count()}, {platform.machine()}, load average {load[0]:.1f} at the end "
          f"(shared with other work: timings are indicative); faster-whisper {faster_whisper.__version__}, "
          f"ctranslate2 {ctranslate2.__version__}, model {model_folder(None).parent.name} (Whisper tiny.en), "
          "int8, 2 threads, beam 1")
    print(f"- Data: piper en_US-joe-medium speaking {len(truth.words)} words in {len(TEST_TEXT.splitlines())} "
          f"sentences ({audio_s:.1f} s), word times exact from piper's durations; alignment figures pool "
          f"{args.takes} syntheses ({len(start)} words); espeak-ng en-us reading the same text ({espeak_s:.1f} s)\n")
    print("| measure | value | target |")
    print("|---|--:|--:|")
    print(f"| alignment: median \\|word start error\\| | **{ms(start, 50)}** | ≤ 50 ms |")
    print(f"| alignment: 95th percentile \\|start error\\| | **{ms(start, 95)}** | ≤ 150 ms |")
    print(f"| alignment: largest \\|start error\\| | {ms(start, 100)} | |")
    print(f"| alignment: words within 50 / 150 ms | {np.mean(np.abs(start) <= 50):.0%} / {np.mean(np.abs(start) <= 150):.0%} | |")
    print(f"| alignment: median / 95th percentile \\|end error\\| | {ms(end, 50)} / {ms(end, 95)} | |")
    print(f"| alignment: shortest word | {lengths.min() * 1000:.0f} ms | > 0 |")
    print(f"| recognition WER, piper | **{piper_wer[0]:.1%}** ({piper_wer[1]}/{piper_wer[2]}) | ≤ 10% |")
    print(f"| recognition WER, espeak-ng | **{espeak_wer[0]:.1%}** ({espeak_wer[1]}/{espeak_wer[2]}) | reported |")
    print(f"| recognized words' start error, median / p95 (realigned; {len(rec_start)} matched) | "
          f"{ms(rec_start, 50)} / {ms(rec_start, 95)} | |")
    print(f"| ... faster-whisper's own word timestamps | {ms(raw_start, 50)} / {ms(raw_start, 95)} | |")
    print(f"| RTF align (wall, median of {args.repeats}) | **{align_rtf:.3f}** | ≤ 0.1 |")
    print(f"| ... CPU seconds per audio second (both threads; / 2 = RTF on 2 idle cores) | {align_cpu:.3f} | |")
    print(f"| RTF recognize, piper (wall, median of {args.repeats}; includes realignment) | **{recognize_rtf:.3f}** | ≤ 0.1 |")
    print(f"| ... CPU seconds per audio second | {recognize_cpu_rtf:.3f} | |")
    print(f"| RTF recognize, espeak-ng | {espeak_rtf:.3f} | ≤ 0.1 |")
    print(f"| model load (fresh process, median of 3) | **{statistics.median(loads):.2f} s** | |")
    if hour is not None:
        print(f"| `reelforge transcribe` of {hour['audio_s'] / 60:.0f} min ({hour['bytes'] / 1e6:.0f} MB WAV): "
              f"peak RSS | **{hour['peak_mb']:.0f} MB** | bounded |")
        print(f"| ... wall time (RTF) | {hour['wall_s']:.0f} s ({hour['wall_s'] / hour['audio_s']:.3f}) | |")
        print(f"| ... exit status, status line | {hour['returncode']}, `{(hour['stdout'] or [''])[0][:70]}` | |")
    if calibration:
        best = min(calibration, key=calibration.get)
        print("\nDTW offset calibration on the independent text (median |start error| by offset): "
              + ", ".join(f"{k:+.2f} s: {v:.0f} ms" for k, v in calibration.items())
              + f"; best {best:+.2f} s (in use: {align_module.DTW_OFFSET:+.2f} s).")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
