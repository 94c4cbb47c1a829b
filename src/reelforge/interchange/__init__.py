"""Finishing in another editor: a reelforge timeline handed over as OpenTimelineIO, and timelines taken back.

`export(job, workspace, out)` prepares the job through the render seam (`reelforge.job.prepare`), builds one
OTIO Timeline from the frame-exact timeline (`build`), writes the generated media beside it (cards as their
rendered lossless videos, stills, narration WAVs, captions as SRT) and writes the format the suffix names
(`formats`: .otio, .otioz, .edl, .xml, .fcpxml, .kdenlive, .mlt) through OTIO's adapters, fixing up what the
MLT and Kdenlive adapters leave unplayable (`mlt`). Everything a format cannot hold comes back as one note a
thing. `import_timeline(path)` reads a timeline edited elsewhere into a blocks document (`importer`).

OpenTimelineIO and its adapters come with the `interchange` extra: `pip install 'reelforge[interchange]'`.
"""

from reelforge.interchange.export import FORMATS, ExportResult, export
from reelforge.interchange.importer import ImportResult, import_timeline

__all__ = ["FORMATS", "ExportResult", "ImportResult", "export", "import_timeline"]
