"""Offers the autosave left by an editor that did not save, when it is newer than the project file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from editor_tui.screens.confirm import ConfirmScreen


class RecoveryScreen(ConfirmScreen):
    """Dismisses with True to recover the autosave, False to keep the file's version."""

    def __init__(self, autosave: Path, project: Path) -> None:
        when = dt.datetime.fromtimestamp(autosave.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
        state = "newer than" if project.exists() else "of"
        super().__init__(
            f"Unsaved changes from {when} were found in {autosave.name}, {state} {project.name}.\n"
            "Recover them? (Undo goes back to the file's version.)",
            yes="Recover", no="Keep the file", title="Recover unsaved changes",
        )

    def on_mount(self) -> None:
        self.query_one("#yes").focus()
