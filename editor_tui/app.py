"""The reelforge terminal scene editor: `reelforge edit PROJECT.json` runs `run_editor`."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from editor_tui.commands import EditorCommands
from editor_tui.screens.editor import EditorScreen
from editor_tui.state import EditorState, autosave_path, autosave_to_offer
from reelforge.document.loader import read_json_file, validate_data
from reelforge.editing.project import Project
from reelforge.errors import DocumentError, ReelforgeError
from reelforge.workspace import Workspace

if TYPE_CHECKING:
    from editor_tui.screens.new_project import NewProject


class EditorApp(App[int]):
    """Opens (or creates) one project and edits it on an EditorScreen."""

    CSS_PATH = "editor.tcss"
    TITLE = "reelforge editor"
    COMMANDS = App.COMMANDS | {EditorCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
        # The palette's key, with a short label so the footer fits 80 columns.
        Binding("ctrl+p", "command_palette", "all", show=False, priority=True, id="app.command_palette",
                tooltip="Every action by name, with its keys"),
    ]

    def __init__(self, path: Path | str, *, keymap: dict[str, str] | None = None, autosave_seconds: float = 1.5,
                 disk_poll_seconds: float = 2.0, workspace: Workspace | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        # The editor is an edge: its workspace comes from the command line, else from the environment.
        self.workspace = workspace or Workspace.from_environment()
        self.autosave_seconds = autosave_seconds
        self.disk_poll_seconds = disk_poll_seconds
        self.state: EditorState | None = EditorState.open(self.path) if self.path.exists() else None
        # Previews go to a work folder of the workspace, removed on every way out (finish, unmount, run_editor's
        # end) and, should the editor be killed, by the next render's or editor's sweep.
        self.workspace.sweep_work()
        sweep_old_temp_folders()
        self._work = self.workspace.work_folder("editor-")
        self.work_dir = self._work.path
        self.key_overrides = dict(keymap or {})  # binding id -> keys, as the palette shows them
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        from editor_tui.screens.recovery import RecoveryScreen

        offered = autosave_to_offer(self.path)
        if self.state is not None:
            self.push_screen(EditorScreen(self.state))
            if offered is not None:
                self.push_screen(RecoveryScreen(offered, self.path), self._recover_into_open_project)
        elif offered is not None:
            self.push_screen(RecoveryScreen(offered, self.path), self._recover_new_project)
        else:
            self._ask_new_project()

    # --- opening ----------------------------------------------------------------------------------------

    def _recover_into_open_project(self, recover: bool | None) -> None:
        if not recover or self.state is None:
            return
        try:
            self.state.recover_autosave()
        except ReelforgeError as exc:
            self.notify(f"cannot recover the autosave: {exc}", severity="error")
            return
        screen = self.screen
        if isinstance(screen, EditorScreen):
            screen.refresh_all()
        self.notify("recovered the unsaved changes; ctrl+z goes back to the file's version")

    def _recover_new_project(self, recover: bool | None) -> None:
        if not recover:
            self._ask_new_project()
            return
        try:
            document = validate_data(read_json_file(autosave_path(self.path)))
        except DocumentError as exc:
            self.notify(f"cannot recover the autosave: {exc}", severity="error")
            self._ask_new_project()
            return
        self.state = EditorState(Project.new(document, self.path), autosave_revision=-1)
        self.push_screen(EditorScreen(self.state))

    def _ask_new_project(self) -> None:
        from editor_tui.screens.new_project import NewProjectScreen
        from reelforge.speech.tts import list_voices

        voices = [voice.voice_id for voice in list_voices(self.workspace.voices)]
        self.push_screen(NewProjectScreen(self.path.name, self.path.stem.replace("-", " ").replace("_", " "), voices),
                         self._create_project)

    def _create_project(self, choice: "NewProject | None") -> None:
        if choice is None:
            self.finish(1)
            return
        self.state = EditorState.create(self.path, name=choice.name, aspect_ratio=choice.aspect_ratio,
                                        voice_id=choice.voice_id)
        self.push_screen(EditorScreen(self.state))

    # --- leaving ----------------------------------------------------------------------------------------

    def action_quit(self) -> None:
        """ctrl+q: the same as q, asking first when there are unsaved changes."""
        editor = next((screen for screen in self.screen_stack if isinstance(screen, EditorScreen)), None)
        if editor is None:
            self.finish(0)
        elif self.screen is editor:
            editor.action_quit_editor()

    def finish(self, code: int = 0) -> None:
        self.release_work()
        self.exit(code)

    def release_work(self) -> None:
        """Remove the editor's work folder (previews); safe to call more than once."""
        self._work.release()

    def on_unmount(self) -> None:
        self.release_work()


OLD_TEMP_PREFIX = "reelforge-editor-"  # where editors before the workspace kept previews
OLD_TEMP_AGE = 24 * 3600.0


def sweep_old_temp_folders() -> None:
    """Remove the preview folders older editors left in the system's temporary folder (a day old or more)."""
    folder = Path(tempfile.gettempdir())
    try:
        candidates = list(folder.glob(f"{OLD_TEMP_PREFIX}*"))
    except OSError:
        return
    for candidate in candidates:
        try:
            if candidate.is_dir() and time.time() - candidate.stat().st_mtime > OLD_TEMP_AGE:
                shutil.rmtree(candidate, ignore_errors=True)
        except OSError:
            continue


def run_editor(path: Path, workspace: Workspace | None = None) -> int:
    """Edit the project at `path` (a new one when it does not exist); the exit code for the CLI.

    Keys are remapped by binding id from editor_tui.keymap.keymap_path() when that file exists.
    """
    from editor_tui.keymap import load_keymap

    try:
        app = EditorApp(path, keymap=load_keymap(), workspace=workspace)
    except DocumentError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return exc.exit_code
    except ReelforgeError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        code = app.run()
    finally:
        app.release_work()
    return code if isinstance(code, int) else 0
