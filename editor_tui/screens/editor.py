"""The main screen: header, scene list, scene form, problems, footer; every editing action and what it does.

Keys follow the focus: on the scene list one letter does it (t speaks, v picks a visual); in the form, where typing
takes the letters, a ctrl chord does (ctrl+t, ctrl+o); the footer shows the keys that apply where the focus is.
Saving, undo and redo, rendering and escape (back to the list) work everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input

from editor_tui.messages import (
    AutosaveWritten,
    LengthsFound,
    PreviewReady,
    RecordingHeard,
    RenderFinished,
    TtsFinished,
)
from editor_tui.state import DiskChanged, EditorState, SpeechRequest, audio_files
from editor_tui.widgets.header import ProjectHeader, clock
from editor_tui.widgets.problems import ProblemsPanel
from editor_tui.widgets.scene_form import FormError, SceneForm
from editor_tui.widgets.scene_list import SceneList
from reelforge import edit
from reelforge.errors import EditError, ReelforgeError
from reelforge.fileio import WriteError

if TYPE_CHECKING:
    from editor_tui.app import EditorApp
    from editor_tui.screens.preview import PreviewScreen
    from editor_tui.screens.quit import QuitChoice
    from editor_tui.screens.settings import SettingsChoice

# The dialogs are imported when first opened: the editor opens faster (see bench/editor_open.py).

FORM_COMMIT_SECONDS = 0.4
"""How long typing pauses before the form's content becomes an edit (and an undo step)."""


def _binding(key: str, action: str, label: str, help_text: str, *, show: bool = True,
             priority: bool = False) -> Binding:
    return Binding(key, action, label, show=show, tooltip=help_text, id=f"editor.{action}", priority=priority)


# What works wherever the focus is on the editor screen. The scene list's letters are on SceneList, the form's
# chords on SceneForm; EDITOR_COMMANDS names every action for the command palette.
EDITOR_BINDINGS = [
    _binding("ctrl+s", "save", "Save", "Save the project (atomically, keeping a backup)"),
    _binding("ctrl+z", "undo", "Undo", "Undo the last edit", show=False, priority=True),
    _binding("ctrl+y", "redo", "Redo", "Redo the last undone edit", show=False, priority=True),
    _binding("ctrl+d", "duplicate_scene", "Duplicate", "Duplicate the selected scene", show=False),
    _binding("ctrl+r", "render", "Render", "Render the video (escape cancels)", show=False),
    _binding("escape", "focus_list", "Scenes", "Go back to the scene list", show=False),
]


@dataclass(frozen=True)
class EditorCommand:
    """One editing action for the command palette: its name, what it does, and the binding ids that run it."""

    action: str
    name: str
    help: str
    binding_ids: tuple[str, ...]


EDITOR_COMMANDS = [
    EditorCommand("add_scene", "Add", "Add a scene after the selected one", ("editor.add_scene", "editor.form.add_scene")),
    EditorCommand("delete_scene", "Delete", "Delete the selected scene", ("editor.delete_scene",)),
    EditorCommand("move_up", "Move up", "Move the selected scene up", ("editor.move_up",)),
    EditorCommand("move_down", "Move down", "Move the selected scene down", ("editor.move_down",)),
    EditorCommand("duplicate_scene", "Duplicate", "Duplicate the selected scene", ("editor.duplicate_scene",)),
    EditorCommand("split_scene", "Split", "Split the scene's narration at the sentence nearest the cursor",
                  ("editor.split_scene", "editor.form.split_scene")),
    EditorCommand("speak", "Speech", "Speak the narration again, or align the recording (exact length)",
                  ("editor.speak", "editor.form.speak")),
    EditorCommand("pick_visual", "Visual", "Pick the selected scene's visual: a file, color, gradient or card",
                  ("editor.pick_visual", "editor.form.pick_visual")),
    EditorCommand("captions", "Captions", "Settings: caption style, position, words a line", ("editor.captions",)),
    EditorCommand("music", "Music", "Settings: background music, mood or file, volume, ducking", ("editor.music",)),
    EditorCommand("settings", "Settings", "Captions, music, voice and output in one screen", ()),
    EditorCommand("preview", "Preview", "Preview the selected scene as a still frame",
                  ("editor.preview", "editor.form.preview")),
    EditorCommand("save", "Save", "Save the project (atomically, keeping a backup)", ("editor.save",)),
    EditorCommand("undo", "Undo", "Undo the last edit", ("editor.undo",)),
    EditorCommand("redo", "Redo", "Redo the last undone edit", ("editor.redo",)),
    EditorCommand("render", "Render", "Render the video (escape cancels)", ("editor.render",)),
    EditorCommand("quit_editor", "Quit", "Quit, asking first when there are unsaved changes", ("editor.quit_editor",)),
]


WARM_VOICE_AFTER = 1.0  # seconds after the editor has painted before the voice is loaded in the background


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
        self._looked_up: set[tuple] = set()  # (scene id, text, voice) the cache did not know: not asked again
        self.warm_thread = None  # the thread loading the voice in the background (see warm_voice)

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
        if self.editor_app.warm_voice:
            self.set_timer(WARM_VOICE_AFTER, self.warm_voice)

    def warm_voice(self) -> None:
        """Load the document's voice in the background while the user reads and types: the first `t` then
        costs only the changed sentences (a `t` pressed meanwhile waits for the same load). Started a second
        after the editor has painted, so that opening and quitting at once does not wait for a model to load
        (a quit during the load waits for its end: onnxruntime must not be torn down mid-load). Best effort: a
        voice that cannot load says so when it is used, not here."""
        if self.warm_thread is not None:
            return
        import threading

        from reelforge.speech.tts import warm_voice

        voice, workspace = self.state.document.voice, self.editor_app.workspace

        def load() -> None:
            try:
                warm_voice(voice, workspace=workspace)
            except Exception:  # noqa: BLE001 - nothing may print over the screen; `t` reports the real error
                pass

        self.warm_thread = threading.Thread(target=load, name="warm-voice")
        self.warm_thread.start()

    # --- showing the state ------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Show everything again, the form included (after an edit that did not come from the form)."""
        self._keep_selection()
        self.refresh_status()
        self.load_form()

    def refresh_status(self) -> None:
        """Header, scene list, the form's length line and problems; the fields are left alone so typing is never
        disturbed. Asks the cache for lengths it may know."""
        state = self.state
        document = state.document
        seconds, exact = state.total_seconds()
        width, height = document.output.frame_size()
        self.query_one(ProjectHeader).show(
            name=document.name, aspect=document.output.aspect_ratio, width=width, height=height, seconds=seconds,
            exact=exact, dirty=state.dirty, changed_on_disk=self.disk_change_noticed, file_name=state.path.name)
        self.query_one(SceneList).show(state.rows(), self.selected_id)
        self.query_one(ProblemsPanel).show(state.problems(), [scene.id for scene in document.scenes])
        if self.selected_id is not None and state.scene(self.selected_id) is not None:
            self.query_one(SceneForm).show_length(state.scene_length(self.selected_id).describe())
        self.look_up_lengths()

    def load_form(self) -> None:
        scene = self.state.scene(self.selected_id) if self.selected_id else None
        form = self.query_one(SceneForm)
        form.display = scene is not None
        if scene is not None:
            number = self.state.index_of(scene.id) + 1
            form.load_scene(scene, self.state.drafts.get(scene.id), recordings=audio_files(self.state.assets_dir))
            form.border_title = f"Scene {number}: {scene.id}"
            form.show_length(self.state.scene_length(scene.id).describe())

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

    @on(SceneForm.ImportRecording)
    def import_recording(self, message: SceneForm.ImportRecording) -> None:
        """Copy a recording into the assets folder and choose it as the scene's narration."""
        from editor_tui.state import AUDIO_SUFFIXES

        if message.path.suffix.lower() not in AUDIO_SUFFIXES:
            self.notify(f"{message.path.name}: not an audio file ({', '.join(sorted(AUDIO_SUFFIXES))})",
                        title="Not imported", severity="error")
            return
        try:
            name = self.state.import_asset(message.path)
        except (ReelforgeError, OSError) as exc:
            self.notify(str(exc), title="Not imported", severity="error")
            return
        form = self.query_one(SceneForm)
        form.query_one("#recording-import", Input).value = ""
        form.show_recordings(audio_files(self.state.assets_dir), name)
        self.notify(f"imported {name} into {self.state.assets_dir.name}/", timeout=3)
        self.commit_form()

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
        if self.run_edit(edit.split_scene(self.selected_id, min(max(offset, 0), length))):
            second = self.state.document.scenes[index + 1].id
            self.notify(f"split into {self.selected_id!r} and {second!r}", timeout=4)

    def action_edit_scene(self) -> None:
        """enter on the list: into the form, at the narration."""
        self.query_one("#narration").focus()

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

    def action_settings(self, section: str = "captions") -> None:
        """The settings screen (captions, music, voice, output), opened at `section`."""
        from editor_tui.screens.settings import SettingsScreen
        from reelforge.speech.tts import list_voices

        self.commit_form()
        try:
            voices = [voice.voice_id for voice in list_voices(self.editor_app.workspace.voices)]
        except (ReelforgeError, OSError):
            voices = []

        def chosen(choice: "SettingsChoice | None") -> None:
            operation = choice.as_edit() if choice is not None else None
            if operation is not None:
                self.run_edit(operation)

        self.app.push_screen(SettingsScreen(self.state.document, self.state.assets_dir, self.state.import_asset,
                                            voices, section=section), chosen)

    def action_captions(self) -> None:
        self.action_settings("captions")

    def action_music(self) -> None:
        self.action_settings("music")

    def action_focus_list(self) -> None:
        self.commit_form()
        self.query_one(SceneList).focus()

    # --- speech -----------------------------------------------------------------------------------------

    def action_speak(self) -> None:
        """Speak the selected scene's text again, or hear its recording (align the transcript, or recognize)."""
        if self._selected_index() is None:
            return
        self.commit_form()
        scene_id = self.selected_id
        if scene_id in self.state.drafts:
            self.notify(f"{scene_id}: {self.state.draft_errors[scene_id]}", title="Fix the form first",
                        severity="warning")
            return
        try:
            request = self.state.speech_request(scene_id)
        except EditError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.state.speaking.add(scene_id)
        self.refresh_status()
        work = self._speak if request.kind == "text" else self._hear
        self.run_worker(lambda: work(request), thread=True, exclusive=True, group=f"tts-{scene_id}",
                        name=f"speech {scene_id}")

    def _speak(self, request: SpeechRequest) -> None:
        from reelforge.speech.tts import synthesize

        try:
            speech = synthesize(request.text, request.voice, workspace=self.editor_app.workspace)
        except (ReelforgeError, OSError) as exc:
            self.post_message(TtsFinished(request.scene_id, request.text, request.voice, error=str(exc)))
        else:
            self.post_message(TtsFinished(request.scene_id, request.text, request.voice, seconds=speech.duration))

    def _hear(self, request: SpeechRequest) -> None:
        from reelforge.resolve.narration import recorded_scene_speech
        from reelforge.speech.asr import transcript_of

        try:
            speech = recorded_scene_speech(request.document, request.index, self.state.base_dir,
                                           self.editor_app.workspace, assets=self.state.assets_dir)
        except (ReelforgeError, OSError, ValueError) as exc:
            self.post_message(RecordingHeard(request.scene_id, request.source, error=str(exc)))
        else:
            self.post_message(RecordingHeard(request.scene_id, request.source, seconds=speech.duration,
                                             words=transcript_of(speech), word_count=len(speech.words),
                                             recognized=not request.has_transcript))

    def on_tts_finished(self, message: TtsFinished) -> None:
        self.state.speaking.discard(message.scene_id)
        if message.seconds is None:
            self.notify(f"{message.scene_id}: {message.error}", title="Speech failed", severity="error")
        else:
            self.state.record_speech(message.scene_id, message.text, message.voice, message.seconds)
            self._tell_length(message.scene_id, "spoken")
        self.refresh_status()

    def on_recording_heard(self, message: RecordingHeard) -> None:
        scene_id = message.scene_id
        self.state.speaking.discard(scene_id)
        if message.seconds is None:
            self.notify(f"{scene_id}: {message.error}", title="Cannot hear the recording", severity="error")
            self.refresh_status()
            return
        self.state.record_recording(scene_id, message.source, message.seconds)
        scene = self.state.scene(scene_id)
        if not message.recognized:
            self._tell_length(scene_id, f"{message.word_count} words aligned")
        elif not message.words.strip():
            self.notify(f"{scene_id}: no speech heard in the recording", severity="warning")
        elif scene is not None and scene.narration is not None and scene.narration.audio is not None \
                and not (scene.narration.transcript or "").strip():
            # The words heard become the transcript, as an edit (undoable): the user corrects them, and the next
            # ctrl+t aligns what they wrote.
            narration = {**scene.narration.to_json_dict(), "transcript": message.words}
            self.run_edit(edit.update_scene(scene_id, narration=narration), select=self.selected_id)
            self.notify(f"{scene_id}: heard {message.word_count} words; they are its transcript now: correct them, "
                        "then t (ctrl+t in the form) aligns them", title="Recognized", timeout=8)
        self.refresh_status()

    def _tell_length(self, scene_id: str, what: str) -> None:
        if self.state.scene(scene_id) is None:
            return
        self.notify(f"{scene_id} ({what}): {self.state.scene_length(scene_id).describe()}", timeout=5)

    # --- exact lengths the cache knows ----------------------------------------------------------------

    def look_up_lengths(self) -> None:
        """Ask the workspace cache, in a worker, for the lengths of speech spoken before (by a render from the command
        line, say) and of recordings: the list shows them exact instead of `~` estimates."""
        texts, recordings = self.state.unknown_lengths()
        voice = self.state.document.voice
        key = (voice.engine, voice.voice_id, voice.speed)
        texts = [(scene_id, text) for scene_id, text in texts if (scene_id, text, key) not in self._looked_up]
        recordings = recordings and ("recordings", self.state.edits) not in self._looked_up
        if not texts and not recordings:
            return
        self._looked_up.update((scene_id, text, key) for scene_id, text in texts)
        self._looked_up.add(("recordings", self.state.edits))
        sources = self.state.recording_sources() if recordings else {}
        self.find_lengths(texts, voice, self.state.document if recordings else None, sources)

    @work(thread=True, group="lengths")
    def find_lengths(self, texts: list[tuple[str, str]], voice, document, sources: dict[int, tuple[str, str]]) -> None:
        from reelforge.resolve.narration import recorded_lengths
        from reelforge.speech.tts import cached_speech

        workspace = self.editor_app.workspace
        spoken: dict[str, tuple[str, Fraction]] = {}
        for scene_id, text in texts:
            try:
                speech = cached_speech(text, voice, workspace=workspace)
            except (ReelforgeError, OSError):
                speech = None
            if speech is not None:
                spoken[scene_id] = (text, speech.duration)
        recorded: dict[str, tuple[str, Fraction]] = {}
        if document is not None:
            try:
                lengths = recorded_lengths(document, self.state.base_dir, workspace, assets=self.state.assets_dir)
            except (ReelforgeError, OSError):
                lengths = {}
            for index, seconds in lengths.items():
                if index in sources:
                    scene_id, source = sources[index]
                    recorded[scene_id] = (source, seconds)
        if spoken or recorded:
            self.post_message(LengthsFound(voice, spoken, recorded))

    def on_lengths_found(self, message: LengthsFound) -> None:
        for scene_id, (text, seconds) in message.spoken.items():
            self.state.record_speech(scene_id, text, message.voice, seconds)
        for scene_id, (source, seconds) in message.recorded.items():
            self.state.record_recording(scene_id, source, seconds)
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
        self._looked_up.clear()  # the render spoke every narration: the cache knows them now
        self.refresh_status()

    # --- saving, autosave, the file on disk, quitting ---------------------------------------------------

    def action_save(self, then=None) -> None:
        """Save; `then()` runs once the project is saved (after an overwrite or a save-as, when one is asked)."""
        self.commit_form()
        try:
            self.state.save()
        except DiskChanged as exc:
            from editor_tui.screens.confirm import ConfirmScreen

            question = f"{exc}.\nOverwrite it? Its version is kept as {self.state.path.name}.bak."
            self.app.push_screen(ConfirmScreen(question, yes="Overwrite", no="Cancel", title="Changed on disk"),
                                 lambda overwrite: self._overwrite_answer(overwrite, then))
            return
        except WriteError as exc:
            if exc.read_only:
                self._ask_save_as(f"{self.state.path.name} is read-only, so it was not changed. Save the project "
                                  "to another file?", then)
                return
            self.notify(str(exc), title="Not saved", severity="error")
            return
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._saved(then)

    def _ask_save_as(self, reason: str, then=None) -> None:
        from editor_tui.screens.save_as import SaveAsScreen, suggested_copy

        self.app.push_screen(SaveAsScreen(reason, suggested_copy(self.state.path)),
                             lambda path: self._save_as_answer(path, then))

    def _save_as_answer(self, path: Path | None, then=None) -> None:
        if path is None:
            self.notify("not saved", severity="warning")
            return
        try:
            self.state.save_as(path)
        except WriteError as exc:
            if exc.read_only:
                self._ask_save_as(f"{path.name} is read-only too. Save somewhere else?", then)
                return
            self.notify(str(exc), title="Not saved", severity="error")
            return
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self.notify(f"saved as {self.state.path}", timeout=5)
        self._saved(then)

    def _overwrite_answer(self, overwrite: bool | None, then=None) -> None:
        if not overwrite:
            self.notify("not saved", severity="warning")
            return
        try:
            self.state.save(overwrite=True)
        except ReelforgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._saved(then)

    def _saved(self, then=None) -> None:
        self.disk_change_noticed = False
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        pending = ", ".join(self.state.draft_errors)
        if pending:
            self.notify(f"saved {self.state.path.name}; not valid yet, so not saved: {pending}", severity="warning")
        else:
            self.notify(f"saved {self.state.path.name}", timeout=2)
        self.refresh_status()
        if then is not None:
            then()

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
            self._leave()
            return

        from editor_tui.screens.quit import QuitScreen

        def answer(choice: "QuitChoice | None") -> None:
            if choice == "save":
                self.action_save(then=self._leave)
            elif choice == "discard":
                self._leave()

        self.app.push_screen(QuitScreen(self.state.path.name, list(self.state.draft_errors)), answer)

    def _leave(self) -> None:
        self.state.remove_autosave()
        self.editor_app.finish()
