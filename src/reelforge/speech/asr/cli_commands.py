"""What `reelforge transcribe` does on the command line: arguments in, status lines and an exit code out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reelforge.workspace import Workspace

EXIT_OK, EXIT_SOME_FAILED = 0, 1


def add_transcribe_arguments(parser: argparse.ArgumentParser) -> None:
    from reelforge.speech.asr.transcribe import DEFAULT_WORDS_PER_LINE

    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_FOLDER", help="Audio or video files, or folders of them.")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR", help="Folder for the caption files.")
    parser.add_argument("--format", default="srt", metavar="LIST", help="Comma-separated: srt, vtt, txt, json (default srt).")
    parser.add_argument("--words-per-line", type=int, default=DEFAULT_WORDS_PER_LINE, metavar="N",
                        help=f"Words per caption at most (default {DEFAULT_WORDS_PER_LINE}); a cue never crosses a sentence end.")
    parser.add_argument("--model", type=Path, default=None, metavar="DIR",
                        help="A faster-whisper model folder (default: $REELFORGE_ASR_MODEL, else the bundled Whisper tiny.en).")
    parser.add_argument("--asr", action="store_true", help="Recognize speech even in a video that has a subtitle track.")
    parser.add_argument("--language", default=None, metavar="CODE", help="Language code for a multilingual model (default: detected).")
    parser.add_argument("-q", "--quiet", action="store_true", help="No progress bar.")


def cmd_transcribe(args: argparse.Namespace, workspace: Workspace) -> int:
    """Run the batch; exit 0 when every item succeeded, 1 when some failed (listed at the end)."""
    from reelforge.cli import ProgressBar
    from reelforge.progress import Progress
    from reelforge.speech.asr.transcribe import parse_formats, run_transcribe

    formats = parse_formats(args.format)
    bar = ProgressBar(enabled=not args.quiet, label="transcribe")

    def report(line: str) -> None:
        if bar.enabled and bar.tty:
            sys.stderr.write("\r\033[K")
        print(line, flush=True)

    try:
        results = run_transcribe(args.inputs, args.output, workspace, formats=formats, words_per_line=args.words_per_line,
                                 model=args.model, force_asr=args.asr, language=args.language, report=report,
                                 on_progress=lambda fraction, name: bar.update(Progress(fraction, name[:24], None)))
    finally:
        bar.close()
    failed = [item for item in results if item.failed]
    counts = {status: sum(item.status == status for item in results) for status in ("completed", "embedded", "no speech")}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    print(f"transcribed {len(results)} files into {args.output}: {summary or 'none'}"
          + (f", {len(failed)} failed" if failed else ""))
    if failed:
        print(f"reelforge: {len(failed)} of {len(results)} files failed:", file=sys.stderr)
        for item in failed:
            print(f"  {item.path}: {item.reason}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK
