"""Rendering the video: where and how well, then a progress bar with ETA; escape cancels through a CancelToken."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, get_args

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select

from editor_tui.messages import RenderFinished, RenderProgress
from reelforge.errors import ReelforgeError, RenderCancelled
from reelforge.model.output import Quality
from reelforge.progress import CancelToken
from reelforge.workspace import Workspace

QUALITY_NAMES = {"draft": "draft (fast, reduced size)", "web": "web (for upload)", "studio": "studio (high bitrate)"}


def eta_text(eta_seconds: float | None) -> str:
    if eta_seconds is None:
        return "ETA …"
    minutes, seconds = divmod(int(round(eta_seconds)), 60)
    return f"ETA {minutes}:{seconds:02d}"


class RenderScreen(ModalScreen[RenderFinished | None]):
    """Dismisses with how the render ended, or None when closed before starting."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="render.cancel")]

    def __init__(self, document: dict[str, Any], *, output: Path, quality: str, workspace: Workspace,
                 assets: Path | None = None, base_dir: Path | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.document = document
        self.base_dir = base_dir
        self.output = output
        self.quality = quality
        self.assets = assets
        self.token = CancelToken()
        self.started = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="render-dialog") as dialog:
            dialog.border_title = "Render"
            with Vertical(id="render-settings"):
                yield Label("Output file")
                yield Input(str(self.output), id="render-output")
                yield Label("Quality")
                yield Select([(QUALITY_NAMES[q], q) for q in get_args(Quality)], value=self.quality,
                             allow_blank=False, id="render-quality")
                with Horizontal(classes="buttons"):
                    yield Button("Render", id="render-start", variant="primary")
                    yield Button("Cancel", id="render-close")
            with Vertical(id="render-progress"):
                yield Label("", id="render-target")
                yield ProgressBar(total=1.0, show_eta=False, id="render-bar")
                yield Label("preparing: speech, assets, timeline…", id="render-stage")
                yield Label("escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#render-progress").display = False
        self.query_one("#render-start", Button).focus()

    @on(Button.Pressed, "#render-start")
    @on(Input.Submitted, "#render-output")
    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.output = Path(self.query_one("#render-output", Input).value.strip() or self.output).expanduser()
        self.quality = str(self.query_one("#render-quality", Select).value)
        self.show_progress_view()
        self.run_render(self.document, self.output, self.quality)

    def show_progress_view(self) -> None:
        self.query_one("#render-settings").display = False
        self.query_one("#render-progress").display = True
        self.query_one("#render-target", Label).update(f"{self.output.name}  ·  {self.quality}")

    @work(thread=True, exclusive=True, group="render")
    def run_render(self, document: dict[str, Any], output: Path, quality: str) -> None:
        from reelforge.job import RenderJob, run

        started = time.monotonic()
        job = RenderJob.of(document, output, assets=self.assets, base_dir=self.base_dir, quality=quality)
        try:
            result = run(job, self.workspace, cancel=self.token,
                         on_progress=lambda p: self.post_message(RenderProgress(p.fraction, p.stage, p.eta_seconds)))
        except RenderCancelled:
            self.post_message(RenderFinished(cancelled=True))
        except (ReelforgeError, OSError) as exc:
            self.post_message(RenderFinished(error=str(exc)))
        else:
            self.post_message(RenderFinished(path=result.path, seconds=time.monotonic() - started))

    def on_render_progress(self, message: RenderProgress) -> None:
        self.query_one("#render-bar", ProgressBar).update(progress=message.fraction)
        if not self.token.cancelled:
            self.query_one("#render-stage", Label).update(
                f"{message.stage}  {message.fraction:4.0%}  {eta_text(message.eta_seconds)}")

    def on_render_finished(self, message: RenderFinished) -> None:
        self.dismiss(message)

    @on(Button.Pressed, "#render-close")
    def action_cancel(self) -> None:
        if not self.started:
            self.dismiss(None)
            return
        self.token.cancel()
        self.query_one("#render-stage", Label).update("cancelling…")
