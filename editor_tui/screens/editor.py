"""The main screen: header, scene list, scene form, problems, footer; every editing key and what it does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer

from editor_tui.messages import AutosaveWritten, PreviewReady, RenderFinished, TtsFinished
from editor_tui.state import DiskChanged, EditorState
from editor_tui.widgets.header import ProjectHeader, clock
from editor_tui.widgets.problems import ProblemsPanel
from editor_tui.widgets.scene_form import FormError, SceneForm
from editor_tui.widgets.scene_list import SceneList
from reelforge import edit
from reelforge.errors import EditError, ReelforgeError
from reelforge.fileio import WriteError

if TYPE_CHECKING:
    from editor_tui.app import EditorApp
    from editor_tui.screens.music import MusicChoice
    from editor_tui.screens.preview import PreviewScreen

# The dialogs are imported when first opened: the editor opens faster (see bench/editor_open.py).

FORM_COMMIT_SECONDS = 0.4
"""How long typing pauses before the form's content becomes an edit (and an undo step)."""


def _binding(key: str, action: str, label: str, help_text: str, *, show: bool = True) -> Binding:
    return Binding(key, action, label, show=show, tooltip=help_text, id=f"editor.{action}")


# The footer shows the keys that fit in 80 columns; the command palette (ctrl+p) lists every one.
EDITOR_BINDINGS = [
    _binding("a", "add_scene", "Add", "Add a scene after the selected one"),
    _binding("d", "delete_scene", "Delete", "Delete the selected scene", show=False),
    _binding("shift+up", "move_up", "Move up", "Move the selected scene up", show=False),
    _binding("shift+down", "move_down", "Move down", "Move the selected scene down", show=False),
    _binding("ctrl+d", "duplicate_scene", "Duplicate", "Duplicate the selected scene", show=False),
    _binding("s", "split_scene", "Split", "Split the scene's narration at the sentence nearest the cursor"),
    _binding("t", "speak", "TTS", "Regenerate the selected scene's speech (exact duration)"),
    _binding("v", "pick_visual", "Visual", "Pick the selected scene's visual: a file, color, gradient or card"),
    _binding("m", "music", "Music", "Background music: mood preset or file, volume, ducking", show=False),
    _binding("c", "captions", "Captions", "Caption style, position and words per line", show=False),
    _binding("p", "preview", "Preview", "Preview the selected scene as a still frame"),
    _binding("ctrl+s", "save", "Save", "Save the project (atomically, keeping a backup)"),
    _binding("ctrl+z", "undo", "Undo", "Undo the last edit", show=False),
    _binding("ctrl+y", "redo", "Redo", "Redo the last undone edit", show=False),
    _binding("ctrl+r", "render", "Render", "Render the video (escape cancels)"),
    _binding("q", "quit_editor", "Quit", "Quit, asking first when there are unsaved changes"),
    _binding("escape", "focus_list", "Scenes", "Go back to the scene list", show=False),
]


class EditorScreen(Screen):
    """Shows the state and turns keys into core edit operations; it keeps no document of its own."""

    BINDINGS = EDITOR_BINDINGS

    def __init__(self, state: EditorState) -> None:
        super().__init__()
        self.state = state
        self.selected_id: str | None = state.document.scenes[0].id if state.document.scenes else None
        self._commit_timer: Timer | None = None
        self._autosave_timer: Timer | None = None
        self.disk_change_noticed = False
        self.last_render: RenderFinished | None = None

    @property
    def editor_app(self) -> "EditorApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield ProjectHeader(id="header")
        with Horizontal(id="body"):
            yield SceneList(id="scenes")
            yield SceneForm(id="form")
        yield ProblemsPanel(id="problems")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(SceneList).border_title = "Scenes"
        self.refresh_all()
        self.query_one(SceneList).focus()
        self.set_interval(self.editor_app.disk_poll_seconds, self.check_disk)
        if self.state.dirty:
            self.schedule_autosave()

    # --- showing the state ------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Show everything again, the form included (after an edit that did not come from the form)."""
        self._keep_selection()
        self.refresh_status()
        self.load_form()

    def refresh_status(self) -> None:
        """Header, scene list and problems; the form is left alone so typing is never disturbed."""
        state = self.state
        document = state.document
        seconds, exact = state.total_seconds()
        width, height = document.output.frame_size()
        self.query_one(ProjectHeader).show(
            name=document.name, aspect=document.output.aspect_ratio, width=width, height=height, seconds=seconds,
            exact=exact, dirty=state.dirty, changed_on_disk=self.disk_change_noticed, file_name=state.path.name)
        self.query_one(SceneList).show(state.rows(), self.selected_id)
        self.query_one(ProblemsPanel).show(state.problems(), [scene.id for scene in document.scenes])

    def load_form(self) -> None:
        scene = self.state.scene(self.selected_id) if self.selected_id else None
        form = self.query_one(SceneForm)
        form.display = scene is not None
        if scene is not None:
            number = self.state.index_of(scene.id) + 1
            form.load_scene(scene, self.state.drafts.get(scene.id))
            form.border_title = f"Scene {number}: {scene.id}"

    def _keep_selection(self, fallback_index: int = 0) -> None:
        scenes = self.state.document.scenes
        if self.selected_id is None or self.state.scene(self.selected_id) is None:
            index = min(max(fallback_index, 0), len(scenes) - 1) if scenes else None
            self.selected_id = scenes[index].id if index is not None else None

    # --- the form -------------------------------------------------------------------------------------

    @on(SceneList.Selected)
    def scene_selected(self, message: SceneList.Selected) -> None:
        if message.scene_id == self.selected_id:
            return
        previous, self.selected_id = self.selected_id, message.scene_id
        self.commit_form(previous)
        self.load_form()

    @on(SceneForm.Changed)
    def form_changed(self) -> None:
        if self._commit_timer is not None:
            self._commit_timer.stop()
        self._commit_timer = self.set_timer(FORM_COMMIT_SECONDS, self.commit_form)

    def commit_form(self, scene_id: str | None = None) -> None:
        """Turn what the form holds for `scene_id` (the selected scene) into an update_scene edit now.

        A no-op when it matches the scene; kept as a draft with its problem when it is not valid.
        """
        if self._commit_timer is not None:
            self._commit_timer.stop()
            self._commit_timer = None
        scene_id = scene_id or self.selected_id
        if scene_id is None or self.state.scene(scene_id) is None:
            return
        form = self.query_one(SceneForm)
        draft = form.read_draft()
        try:
            changes = form.build_changes()
        except FormError as exc:
            self.state.update_scene_from_form(scene_id, draft, None, str(exc))
        else:
            if self.state.update_scene_from_form(scene_id, draft, changes) is not None:
                self.schedule_autosave()
        self.refresh_status()

    @on(Button.Pressed, "#pick-visual")
    def _pick_visual_button(self) -> None:
        self.action_pick_visual()

    # --- edits ----------------------------------------------------------------------------------------

    def run_edit(self, operation: edit.Edit, *, select: str | None = None, fallback_index: int = 0) -> bool:
        """Apply a core edit; show why when it is refused. Returns whether it was applied."""
        self.commit_form()
        try:
            self.state.apply(operation)
        except EditError as exc:
            self.notify(str(exc), title="Not done", severity="error")
            return False
        if select is not None:
            self.selected_id = select
        self._keep_selection(fallback_index)
        self.refresh_all()
        self.schedule_autosave()
        return True

    def _selected_index(self) -> int | None:
        if self.selected_id is None or self.state.scene(self.selected_id) is None:
            return None
        return self.state.index_of(self.selected_id)

    def action_add_scene(self) -> None:
        self.commit_form()
        operation, scene_id = self.state.new_scene(self.selected_id)
        self.run_edit(operation, select=scene_id)

    def action_delete_scene(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        self.run_edit(edit.remove_scene(self.selected_id), fallback_index=index)

    def _move(self, offset: int) -> None:
        index = self._selected_index()
        if index is None or not 0 <= index + offset < len(self.state.document.scenes):
            return
        self.run_edit(edit.move_scene(self.selected_id, index + offset))

    def action_move_up(self) -> None:
        self._move(-1)

    def action_move_down(self) -> None:
        self._move(+1)

    def action_duplicate_scene(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        if self.run_edit(edit.duplicate_scene(self.selected_id)):
            self.selected_id = self.state.document.scenes[index + 1].id
            self.refresh_all()

    def action_split_scene(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        form = self.query_one(SceneForm)
        typed = form.read_draft().narration
        offset = form.narration_cursor() - (len(typed) - len(typed.lstrip()))
        self.commit_form()
        scene = self.state.scene(self.selected_id)
        length = len(scene.narration.text or "") if scene and scene.narration else 0
        self.run_edit(edit.split_scene(self.selected_id, min(max(offset, 0), length)))

    def action_undo(self) -> None:
        self._history(self.state.undo, "undo")

    def action_redo(self) -> None:
        self._history(self.state.redo, "redo")

    def _history(self, step, name: str) -> None:
        self.commit_form()
        index = self._selected_index() or 0
        try:
            event = step()
        except EditError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._keep_selection(index)
        self.refresh_all()
        self.schedule_autosave()
        self.notify(f"{name}: {event.label}", timeout=2)

    # --- dialogs ----------------------------------------------------------------------------------------

    def action_pick_visual(self) -> None:
        index = self._selected_index()
        if index is None:
            return
        from editor_tui.screens.visual_picker import VisualPicker

        self.commit_form()
        scene_id = self.selected_id
        scene = self.state.scene(scene_id)

        def chosen(visual) -> None:
            if visual is not None:
                self.run_edit(edit.set_visual(scene_id, visual), select=scene_id)

        self.app.push_screen(VisualPicker(self.state.assets_dir, self.state.import_asset, scene_number=index + 1,
                                          current=scene.visual if scene else None), chosen)

    def action_music(self) -> None:
        from editor_tui.screens.music import MusicScreen

        self.commit_form()

        def chosen(choice: "MusicChoice | None") -> None:
            if choice is not None:
                self.run_edit(edit.set_music(choice.music))

        self.app.push_screen(MusicScreen(self.state.document.music, self.state.assets_dir, self.state.import_asset),
                             chosen)

    def action_captions(self) -> None:
        from editor_tui.screens.captions import CaptionsScreen

        self.commit_form()

        def chosen(changes) -> None:
            if changes is not None:
                self.run_edit(edit.set_captions(changes))

        self.app.push_screen(CaptionsScreen(self.state.document.captions), chosen)

    def action_focus_list(self) -> None:
        self.commit_form()
        self.query_one(SceneList).focus()

    # --- speech -----------------------------------------------------------------------------------------

    def action_speak(self) -> None:
        if self._selected_index() is None:
            return
        self.commit_form()
        scene_id = self.selected_id
        try:
            text, voice = self.state.speech_request(scene_id)
        except EditError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.state.speaking.add(scene_id)
        self.refresh_status()
        self.run_worker(lambda: self._speak(scene_id, text, voice), thread=True, exclusive=True,
                        group=f"tts-{scene_id}", name=f"speak {scene_id}")

    def _speak(self, scene_id: str, text: str, voice) -> None:
        from reelforge.speech.tts import synthesize

        try:
            speech = synthesize(text, voice, workspace=self.editor_app.workspace)
        except (ReelforgeError, OSError) as exc:
            self.post_message(TtsFinished(scene_id, text, voice, error=str(exc)))
        else:
            self.post_message(TtsFinished(scene_id, text, voice, seconds=speech.duration))

    def on_tts_finished(self, message: TtsFinished) -> None:
        self.state.speaking.discard(message.scene_id)
        if message.seconds is None:
            self.notify(f"{message.scene_id}: {message.error}", title="Speech failed", severity="error")
        else:
            self.state.record_speech(message.scene_id, message.text, message.voice, message.seconds)
            self.notify(f"{message.scene_id}: speech is {float(message.seconds):.2f} s", timeout=3)
        self.refresh_status()

    # --- preview and render -----------------------------------------------------------------------------

    def action_preview(self) -> None:
        from editor_tui.screens.preview import PreviewScreen, preview_path

        if self._selected_index() is None:
            return
        self.commit_form()
        scene_id = self.selected_id
        document, at_seconds = self.state.scene_preview_document(scene_id)
        screen = PreviewScreen(scene_id, at_seconds)
        self.app.push_screen(screen)
        out = preview_path(self.editor_app.work_dir, scene_id)
        self.make_preview(screen, scene_id, document, at_seconds, out, self.state.assets_dir, self.state.base_dir)

    @work(thread=True, exclusive=True, group="preview")
    def make_preview(self, screen: "PreviewScreen", scene_id: str, document: dict, at_seconds: float, out: Path,
                     assets: Path, base_dir: Path) -> None:
        from reelforge.job import RenderJob
        from reelforge.renderers.preview import render_frame

        job = RenderJob.of(document, assets=assets, base_dir=base_dir, quality="draft")
        try:
            png = render_frame(job, at_seconds, out, self.editor_app.workspace)
        except (ReelforgeError, OSError) as exc:
            screen.post_message(PreviewReady(scene_id, error=str(exc)))
        else:
            screen.post_message(PreviewReady(scene_id, png=png))

    def action_render(self) -> None:
        from editor_tui.screens.render import RenderScreen

        self.commit_form()
        state = self.state
        screen = RenderScreen(state.document_for_render(), output=state.default_output,
                              quality=state.document.output.quality, workspace=self.editor_app.workspace,
                              assets=state.assets_dir, base_dir=state.base_dir)
        self.app.push_screen(screen, self.render_finished)

    def render_finished(self, finished: RenderFinished | None) -> None:
        if finished is None:
            return
        self.last_render = finished
        if finished.cancelled:
            self.notify("render cancelled", severity="warning")
        elif finished.error:
            self.notify(finished.error, title="Render failed", severity="error", timeout=10)
        else:
            self.notify(f"{finished.path} in {clock(finished.seconds)}", title="Rendered", timeout=10)

    # --- saving, autosave, the file on disk, quitting ---------------------------------------------------

    def action_save(self) -> None:
        self.commit_form()
        try:
            self.state.save()
        except DiskChanged as exc:
            from editor_tui.screens.confirm import ConfirmScreen

            question = f"{exc}.\nOverwrite it? Its version is kept as {self.state.path.name}.bak."
            self.app.push_screen(ConfirmScreen(question, yes="Overwrite", no="Cancel", title="Changed on disk"),
                                 self._overwrite_answer)
            return
        except WriteError as exc:
            if exc.read_only:
                self._ask_save_as(f"{self.state.path.name} is read-only, so it was not changed. Save the project "
                                  "to another file?")
                return
            self.notify(str(exc), title="Not saved", severity="error")
            return
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._saved()

    def _ask_save_as(self, reason: str) -> None:
        from editor_tui.screens.save_as import SaveAsScreen, suggested_copy

        self.app.push_screen(SaveAsScreen(reason, suggested_copy(self.state.path)), self._save_as_answer)

    def _save_as_answer(self, path: Path | None) -> None:
        if path is None:
            self.notify("not saved", severity="warning")
            return
        try:
            self.state.save_as(path)
        except WriteError as exc:
            if exc.read_only:
                self._ask_save_as(f"{path.name} is read-only too. Save somewhere else?")
                return
            self.notify(str(exc), title="Not saved", severity="error")
            return
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self.notify(f"saved as {self.state.path}", timeout=5)
        self._saved()

    def _overwrite_answer(self, overwrite: bool | None) -> None:
        if not overwrite:
            self.notify("not saved", severity="warning")
            return
        try:
            self.state.save(overwrite=True)
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._saved()

    def _saved(self) -> None:
        self.disk_change_noticed = False
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        pending = ", ".join(self.state.draft_errors)
        if pending:
            self.notify(f"saved {self.state.path.name}; not valid yet, so not saved: {pending}", severity="warning")
        else:
            self.notify(f"saved {self.state.path.name}", timeout=2)
        self.refresh_status()

    def schedule_autosave(self) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(self.editor_app.autosave_seconds, self.autosave)

    def autosave(self) -> None:
        if not self.state.dirty:  # back at the saved version (undo): nothing to recover
            self.state.remove_autosave()
            return
        payload = self.state.autosave_payload()
        if payload is not None:
            self.write_autosave(*payload)

    @work(thread=True, exclusive=True, group="autosave")
    def write_autosave(self, target: Path, text: str) -> None:
        try:
            EditorState.write_autosave(target, text)
        except OSError as exc:
            self.post_message(AutosaveWritten(target, error=exc.strerror or str(exc)))
        else:
            self.post_message(AutosaveWritten(target))

    def on_autosave_written(self, message: AutosaveWritten) -> None:
        if message.error:
            self.notify(f"autosave failed: {message.error}", severity="error")

    def check_disk(self) -> None:
        if not self.disk_change_noticed and self.state.changed_on_disk():
            self.disk_change_noticed = True
            self.notify(f"{self.state.path.name} was changed by another program; saving will ask before "
                        "overwriting it", title="Changed on disk", severity="warning", timeout=10)
            self.refresh_status()

    def action_quit_editor(self) -> None:
        self.commit_form()
        if not self.state.dirty:
            self.state.remove_autosave()
            self.editor_app.finish()
            return

        from editor_tui.screens.confirm import ConfirmScreen

        def answer(discard: bool | None) -> None:
            if discard:
                self.state.remove_autosave()
                self.editor_app.finish()

        self.app.push_screen(ConfirmScreen("There are unsaved changes. Quit without saving them?",
                                           yes="Quit without saving", no="Stay", title="Unsaved changes"), answer)
