"""The `reelforge` command line: one function per command; errors become one line and an exit code.

This is an edge: the environment ($REELFORGE_CACHE, $REELFORGE_VOICES) is read here, once, into a Workspace."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from reelforge.errors import DocumentError, ReelforgeError, RenderCancelled, UsageError
from reelforge.workspace import Workspace

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2


def _print_problems(label: str, error: DocumentError) -> None:
    for problem in error.problems:
        print(f"{label}: {problem}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.document.estimate import document_seconds
    from reelforge.document.loader import load_document

    status = EXIT_OK
    for file in args.files:
        try:
            loaded = load_document(Path(file), assets=args.assets)
        except DocumentError as error:
            _print_problems(file, error)
            status = EXIT_INVALID
            continue
        doc = loaded.document
        for warning in loaded.warnings:
            print(f"{file}: {warning}", file=sys.stderr)
        known = _recorded_lengths(loaded, args.assets, workspace)
        width, height = doc.output.frame_size()
        print(
            f"{file}: valid: {len(doc.scenes)} scenes, {len(doc.blocks)} blocks, "
            f"~{document_seconds(doc, known):.1f} s, {doc.output.aspect_ratio} {width}x{height} {doc.output.fps} fps"
        )
        if args.estimate:
            _print_estimate(doc, known)
    return status


def _recorded_lengths(loaded, assets: Path | None, workspace: Workspace) -> dict:
    """Exact lengths of the document's recorded narrations (probed), by scene index, for the estimate."""
    if not any(scene.narration is not None and scene.narration.audio is not None for scene in loaded.document.scenes):
        return {}
    try:
        from reelforge.resolve.narration import recorded_lengths
    except ImportError:  # a core-only install cannot read audio: the estimate stays a guess
        return {}
    return recorded_lengths(loaded.document, loaded.base_dir, workspace, assets=assets)


def cmd_preview_script(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.document.loader import load_document

    loaded = load_document(Path(args.file), assets=args.assets)
    _print_estimate(loaded.document, _recorded_lengths(loaded, args.assets, workspace))
    return EXIT_OK


def _print_estimate(doc, known: dict | None = None) -> None:
    from reelforge.document.estimate import document_seconds, estimate_scenes

    known = known or {}
    estimates = estimate_scenes(doc, known)
    if estimates:
        print(f"{'#':>3}  {'scene':<20} {'words':>5}  {'seconds':>7}  narration")
    for number, (scene, estimate) in enumerate(zip(doc.scenes, estimates), start=1):
        text = scene.narration.words_text if scene.narration else ""
        excerpt = (text[:48] + "…") if len(text) > 49 else text
        mark = "" if estimate.fixed or number - 1 in known else "~"
        print(f"{number:>3}  {scene.id:<20} {estimate.words:>5}  {mark + format(estimate.seconds, '.1f'):>7}  {excerpt}")
    words = sum(e.words for e in estimates)
    print(f"total: {words} words, ~{document_seconds(doc, known):.1f} s at voice speed {doc.voice.speed:g}")


def cmd_schema(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.document.schema import default_schema_path, schema_text
    from reelforge.fileio import write_atomic

    text = schema_text()
    if args.write is None:
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(args.write) if args.write else default_schema_path()
    write_atomic(target, text)
    print(f"wrote {target}")
    return EXIT_OK


def cmd_new(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.editing.script_import import document_from_script, read_script
    from reelforge.fileio import write_atomic

    if args.from_media:
        from reelforge.editing.media_import import cmd_new_from_media

        return cmd_new_from_media(args, workspace)
    if args.from_prompt is not None:  # the script writers (issue 15): reelforge.editing.script_writer
        from reelforge.editing.script_writer import cmd_new_from_prompt

        env = os.environ  # this is an edge: the writer's settings come from the flags, else the environment
        return cmd_new_from_prompt(args, writer=args.writer or env.get("REELFORGE_WRITER") or "outline",
                                   url=args.llm_url or env.get("REELFORGE_LLM_URL"),
                                   model=args.llm_model or env.get("REELFORGE_LLM_MODEL"),
                                   api_key=env.get("REELFORGE_LLM_API_KEY"), timeout=env.get("REELFORGE_LLM_TIMEOUT"))
    out = Path(args.output)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot make the folder {out.parent}: {error.strerror or error}") from None
    text = read_script(Path(args.from_text))
    document = document_from_script(
        text, name=args.name, default_name=Path(args.from_text).stem, aspect_ratio=args.aspect, voice_id=args.voice
    )
    from reelforge.editing.project import document_json

    write_atomic(out, document_json(document), keep_backup=out.exists())
    print(f"wrote {out}: {len(document.scenes)} scenes")
    return EXIT_OK


def cmd_render(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.job import RenderJob

    if args.progress == "json":
        return _render_json_lines(args, workspace)
    progress = ProgressBar(enabled=not args.quiet and args.progress != "none")
    started = time.monotonic()
    job = RenderJob.of(args.file, args.output, assets=args.assets, quality=args.quality, backend=args.backend)
    try:
        result = _run_job(args, workspace, job, progress.update)
    finally:
        progress.close()
    elapsed = time.monotonic() - started
    print(f"{result.path}: {result.duration:.2f} s, {result.width}x{result.height}, {result.size_bytes / 1e6:.1f} MB "
          f"in {elapsed:.1f} s ({result.cache_hits} pieces reused, {result.cache_misses} rendered)")
    return EXIT_OK


def _render_json_lines(args: argparse.Namespace, workspace: Workspace) -> int:
    """`render --progress json`: one JSON object per line on stdout (progress, then the result or the error)."""
    import json
    import threading

    from reelforge.job import RenderJob
    from reelforge.reports import error_report, progress_report, result_report

    lock = threading.Lock()

    def emit(record: dict) -> None:
        with lock:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    started = time.monotonic()
    job = RenderJob.of(args.file, args.output, assets=args.assets, quality=args.quality, backend=args.backend)
    try:
        result = _run_job(args, workspace, job, lambda progress: emit(progress_report(progress)))
    except (ReelforgeError, KeyboardInterrupt) as error:
        emit({"type": "error", **error_report(error if isinstance(error, ReelforgeError) else RenderCancelled())})
        raise
    emit(result_report(result, time.monotonic() - started))
    return EXIT_OK


def _run_job(args: argparse.Namespace, workspace: Workspace, job, on_progress):
    """Run a render job here, or with its video runs on a Dask cluster (`--scheduler`)."""
    from reelforge.job import run

    if getattr(args, "shared_folder", None) and not getattr(args, "scheduler", None):
        raise UsageError("--shared-folder needs --scheduler")
    if getattr(args, "scheduler", None):
        from reelforge.cluster.cli_commands import render_on_cluster

        return render_on_cluster(args, workspace, job, on_progress)
    return run(job, workspace, on_progress=on_progress)


class ProgressBar:
    """A one-line progress bar with ETA on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, enabled: bool = True, label: str = "render"):
        self.enabled = enabled
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last_percent = -1

    def update(self, progress) -> None:
        if not self.enabled:
            return
        percent = int(progress.fraction * 100)
        eta = f" ETA {progress.eta_seconds:4.0f} s" if progress.eta_seconds is not None else ""
        if self.tty:
            filled = percent * 30 // 100
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {progress.stage:<8}{eta}   ")
            sys.stderr.flush()
        elif percent // 10 != self.last_percent // 10:
            print(f"{self.label}: {percent}% {progress.stage}{eta}", file=sys.stderr)
        self.last_percent = percent

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


def cmd_frame(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.job import RenderJob
    from reelforge.renderers.preview import render_frame

    started = time.monotonic()
    job = RenderJob.of(args.file, assets=args.assets, quality=args.quality)
    out = render_frame(job, args.at, args.output, workspace)
    print(f"wrote {out} in {time.monotonic() - started:.2f} s")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace, workspace: Workspace) -> int:
    try:
        from editor_tui.app import run_editor
    except ImportError as exc:
        print(f"reelforge: the editor needs Textual ({exc.name} is missing): pip install 'reelforge[editor]'", file=sys.stderr)
        return EXIT_FAILURE
    return run_editor(Path(args.file), workspace)


def _prepared_timeline(args: argparse.Namespace, workspace: Workspace):
    from reelforge.job import RenderJob, prepare

    return prepare(RenderJob.of(args.file, assets=args.assets), workspace).timeline


def cmd_timeline(args: argparse.Namespace, workspace: Workspace) -> int:
    import json

    from reelforge.timeline import timeline_dict

    print(json.dumps(timeline_dict(_prepared_timeline(args, workspace)), indent=2))
    return EXIT_OK


def cmd_captions(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.timeline.captions import sidecar_events, write_sidecar

    timeline = _prepared_timeline(args, workspace)
    out = Path(args.output)
    captions = sidecar_events([e for e in timeline.texts if e.role == "caption"])
    write_sidecar(timeline.cues, timeline.rate, out, ass_styles=timeline.styles, events=captions,
                  size=(timeline.width, timeline.height))
    print(f"wrote {out}: {len(timeline.cues)} captions")
    return EXIT_OK


def cmd_tts(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.speech.tts.cli_commands import run_tts

    out = run_tts(args.text, Path(args.output), _with_voices(workspace, args), args.voice, args.speed)
    print(f"wrote {out}")
    return EXIT_OK


def cmd_voices(args: argparse.Namespace, workspace: Workspace) -> int:
    from reelforge.speech.tts import list_voices
    from reelforge.speech.tts.cli_commands import format_voices

    print(format_voices(list_voices(_with_voices(workspace, args).voices)))
    return EXIT_OK


def _with_voices(workspace: Workspace, args: argparse.Namespace) -> Workspace:
    """The workspace, with the voices folder `--voices` names instead of $REELFORGE_VOICES."""
    return replace(workspace, voices=args.voices) if args.voices is not None else workspace


class _VersionAction(argparse.Action):
    """--version: the installed version, read only when asked for (its metadata is slow to load)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from reelforge import __version__

        print(f"reelforge {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reelforge",
        description="Offline-first toolkit for narrated short videos.",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(func=func)
        return sub

    validate = command("validate", cmd_validate, "Check documents; print a summary line for each valid one.")
    validate.add_argument("files", nargs="+", metavar="FILE", help="Document JSON files.")
    validate.add_argument("--assets", type=Path, help="Assets folder (default: the document's assetsDir, or assets/ beside it).")
    validate.add_argument("--estimate", action="store_true", help="Also print each scene's estimated duration.")

    preview = command("preview-script", cmd_preview_script, "Print each scene's word count and estimated seconds, and the total.")
    preview.add_argument("file", metavar="FILE", help="Document JSON file.")
    preview.add_argument("--assets", type=Path, help="Assets folder.")

    schema = command("schema", cmd_schema, "Print the document JSON Schema, or write it with --write.")
    schema.add_argument(
        "--write", nargs="?", const="", default=None, metavar="PATH",
        help="Write the schema to PATH (default: schema/template.v1.schema.json in the source tree).",
    )

    new = command("new", cmd_new, "Create a scene project from a plain-text or Markdown script, or from images and a voiceover.")
    source = new.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-text", metavar="SCRIPT", help="Script: one scene per paragraph or list item; headings become titles.")
    source.add_argument("--from-media", nargs="+", metavar="FILE", help="IMAGE... AUDIO: the images (one scene each, cut at "
                        "sentence boundaries) over the recording, with captions recognized from it.")
    source.add_argument("--from-prompt", metavar="PROMPT", help="A prompt, made into a script by the script writer "
                        "(--writer outline: the prompt is the script; llm: an OpenAI-compatible endpoint).")
    new.add_argument("--writer", choices=["outline", "llm"], default=None, help="Script writer for --from-prompt "
                     "(default $REELFORGE_WRITER, else outline).")
    new.add_argument("--llm-url", default=None, help="The llm writer's base URL (default $REELFORGE_LLM_URL).")
    new.add_argument("--llm-model", default=None, help="The llm writer's model (default $REELFORGE_LLM_MODEL).")
    new.add_argument("-o", "--output", required=True, metavar="PROJECT.json", help="Where to write the project.")
    new.add_argument("--aspect", default="9:16", choices=["16:9", "9:16", "1:1", "4:5"], help="Aspect ratio (default 9:16).")
    new.add_argument("--voice", default=None, metavar="ID", help="Voice id (default: the bundled en_US-joe-medium).")
    new.add_argument("--name", default=None, help="Video name (default: the script's first heading or file name).")
    new.add_argument("--force", action="store_true", help="Overwrite an existing output file (a backup is kept).")

    render = command("render", cmd_render, "Render a document to MP4 (H.264 + AAC, captions as a subtitle track).")
    render.add_argument("file", metavar="FILE", help="Document JSON file.")
    render.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="Output file; written only when complete.")
    render.add_argument("--assets", type=Path, help="Assets folder (default: assets/ beside the document).")
    render.add_argument("--quality", choices=["draft", "web", "studio"], help="Override the document's output quality.")
    render.add_argument("-q", "--quiet", action="store_true", help="No progress bar.")
    render.add_argument("--progress", choices=["bar", "json", "none"], default="bar",
                        help="bar: a progress bar on stderr (default); json: one JSON object per line on stdout "
                             "(stage, fraction, etaSeconds; then the result or the error with its code and path).")
    render.add_argument("--backend", choices=["ffmpeg", "moviepy"], default="ffmpeg",
                        help="ffmpeg: fast, cached by segment (default); moviepy: the reference renderer.")

    # Dask cluster (issue 16): `render --scheduler`, and `batch`; the bodies live in reelforge.cluster.cli_commands
    from reelforge.cluster.cli_commands import add_batch_arguments, add_cluster_arguments, cmd_batch

    add_cluster_arguments(render)
    add_batch_arguments(command("batch", cmd_batch, "Render many documents at once, their video runs spread over a "
                                                    "Dask cluster (a local one by default); a summary table at the end."))

    frame = command("frame", cmd_frame, "Write the frame shown at a time as PNG, without rendering the video.")
    frame.add_argument("file", metavar="FILE", help="Document JSON file.")
    frame.add_argument("--at", type=float, required=True, metavar="SECONDS", help="Time of the frame.")
    frame.add_argument("-o", "--output", required=True, metavar="FRAME.png", help="PNG file to write.")
    frame.add_argument("--assets", type=Path, help="Assets folder.")
    frame.add_argument("--quality", choices=["draft", "web", "studio"], help="Override the document's quality (draft: half size).")

    timeline = command("timeline", cmd_timeline, "Print the frame-exact timeline that would be rendered, as JSON.")
    timeline.add_argument("file", metavar="FILE", help="Document JSON file.")
    timeline.add_argument("--assets", type=Path, help="Assets folder.")

    captions = command("captions", cmd_captions, "Write the captions as a sidecar file (.srt, .vtt or .ass).")
    captions.add_argument("file", metavar="FILE", help="Document JSON file.")
    captions.add_argument("-o", "--output", required=True, metavar="OUT.srt", help="Sidecar file; the format follows the suffix.")
    captions.add_argument("--assets", type=Path, help="Assets folder.")

    tts = command("tts", cmd_tts, "Speak text to a WAV file with an offline voice.")
    tts.add_argument("text", help="The text to speak.")
    tts.add_argument("-o", "--output", required=True, metavar="OUT.wav", help="WAV file to write.")
    tts.add_argument("--voice", default="en_US-joe-medium", metavar="ID", help="Voice id (see `reelforge voices`).")
    tts.add_argument("--speed", type=float, default=1.0, help="Speaking rate, 0.5 to 2 (default 1).")
    tts.add_argument("--voices", type=Path, default=None, metavar="DIR", help="Folder of extra piper voices (.onnx + .onnx.json).")

    edit = command("edit", cmd_edit, "Edit a project scene by scene in the terminal (a new one when the file does not exist).")
    edit.add_argument("file", metavar="PROJECT.json", help="The project file.")

    voices = command("voices", cmd_voices, "List the voices available offline.")
    voices.add_argument("--voices", type=Path, default=None, metavar="DIR", help="Folder of extra piper voices.")

    from reelforge.interchange.cli import add_commands as add_interchange_commands  # export, import (OTIO)

    add_interchange_commands(command)

    # speech recognition (issue 12): the command bodies live in reelforge.speech.asr.cli_commands
    from reelforge.speech.asr.cli_commands import add_transcribe_arguments, cmd_transcribe

    add_transcribe_arguments(command("transcribe", cmd_transcribe,
                                     "Captions for audio and video files, offline, in batch (srt, vtt, txt, json)."))

    # The render-job service (reelforge.service, reelforge_api): `serve` and its `keys`.
    from reelforge.service.cli_commands import add_keys_arguments, add_serve_arguments, run_keys, run_serve

    serve = command("serve", lambda args, workspace: run_serve(args, os.environ),
                    "Run the render-job HTTP service (FastAPI on uvicorn).")
    add_serve_arguments(serve)
    keys = command("keys", lambda args, workspace: run_keys(args, os.environ),
                   "Make, list, revoke and rotate the service's API keys.")
    add_keys_arguments(keys)
    return parser


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: everything that stops cleanly on Ctrl-C stops cleanly on it too."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # file names with undecodable bytes must not crash a report line
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the speech model never comes from a hub (see speech.asr.engine)
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        return _run(args)
    except Terminated:  # between commands' own handling (e.g. while reporting)
        print("reelforge: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args, Workspace.from_environment())
    except DocumentError as error:
        _print_problems(getattr(args, "file", None) or "reelforge", error)
        return error.exit_code
    except ReelforgeError as error:
        if isinstance(error, RenderCancelled) and isinstance(error.__context__, Terminated):
            print("reelforge: terminated: the render was stopped and nothing was written", file=sys.stderr)
            return EXIT_TERMINATED
        print(f"reelforge: error: {error}", file=sys.stderr)
        return error.exit_code
    except Terminated:
        print("reelforge: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("reelforge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last line of defence: a bug, reported in one line
        if os.environ.get("REELFORGE_DEBUG"):
            raise
        print(f"reelforge: internal error: {type(error).__name__}: {error} (set REELFORGE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_FAILURE
