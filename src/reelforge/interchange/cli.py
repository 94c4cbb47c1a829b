"""The bodies of `reelforge export` and `reelforge import` (registered in `reelforge.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from reelforge.errors import ReelforgeError


def cmd_export(args, workspace) -> int:
    from reelforge.interchange.export import export, format_of
    from reelforge.job import RenderJob

    out = Path(args.output)
    format_of(out)  # an unknown suffix fails before any narration is spoken
    if out.exists() and not args.force:
        raise ReelforgeError(f"{out} exists; pass --force to overwrite it")
    result = export(RenderJob.of(args.file, assets=args.assets, quality=args.quality), workspace, out)
    clips = sum(1 for _ in result.written.find_clips())
    tracks = len(result.written.tracks)
    frames = result.written.duration().to_frames()
    print(f"wrote {result.path}: {result.format}, {tracks} tracks, {clips} clips, {frames} frames"
          + (f"; {len(result.files)} files beside it" if result.files else ""))
    sys.stdout.flush()
    for note in result.notes:
        print(f"{out.name}: note: {note}", file=sys.stderr)
    return 0


def cmd_import(args, workspace) -> int:
    from reelforge.fileio import write_atomic
    from reelforge.interchange.importer import import_timeline

    out = Path(args.output)
    if out.exists() and not args.force:
        raise ReelforgeError(f"{out} exists; pass --force to overwrite it")
    result = import_timeline(Path(args.file), out, fps=args.fps)
    write_atomic(out, json.dumps(result.document, indent=2, ensure_ascii=False) + "\n", keep_backup=out.exists())
    document = result.document
    print(f"wrote {out}: {len(document.get('scenes', []))} scenes, {len(document.get('blocks', []))} blocks, "
          f"{document['duration']:.2f} s")
    for note in result.notes:
        print(f"{Path(args.file).name}: note: {note}", file=sys.stderr)
    return 0


def add_commands(command) -> None:
    """Register `export` and `import` with the CLI's `command(name, func, help)`."""
    export = command("export", cmd_export, "Write the timeline for another editor: .otio, .otioz, .edl, .xml (FCP 7), "
                                           ".fcpxml, .kdenlive or .mlt; says what the format leaves out.")
    export.add_argument("file", metavar="FILE", help="Document JSON file.")
    export.add_argument("-o", "--output", required=True, metavar="OUT.otio",
                        help="Timeline file; the format follows the suffix. Media it needs goes into OUT_media/.")
    export.add_argument("--assets", type=Path, help="Assets folder.")
    export.add_argument("--quality", choices=["draft", "web", "studio"], help="Override the document's quality (draft: half size).")
    export.add_argument("--force", action="store_true", help="Overwrite an existing output file.")
    imp = command("import", cmd_import, "Make a document from a timeline edited elsewhere (.otio, .otioz, .edl, .xml, "
                                        ".fcpxml, .kdenlive).")
    imp.add_argument("file", metavar="TIMELINE", help="Timeline file; the format follows the suffix.")
    imp.add_argument("-o", "--output", required=True, metavar="DOCUMENT.json", help="Document to write.")
    imp.add_argument("--fps", type=float, default=None, help="Frame rate of an EDL (default 30) or to override the timeline's.")
    imp.add_argument("--force", action="store_true", help="Overwrite an existing document (a backup is kept).")
