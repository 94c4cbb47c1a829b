"""The command palette's editor commands: every editing action by name, with its keys (on the list, in the form) and
what it does."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Iterator

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from editor_tui.screens.editor import EDITOR_COMMANDS, EditorCommand, EditorScreen
from editor_tui.widgets.scene_form import SceneForm
from editor_tui.widgets.scene_list import SceneList


def _bindings_by_id() -> dict[str, Binding]:
    found: dict[str, Binding] = {}
    for owner in (SceneList, SceneForm, EditorScreen):
        for binding in owner.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, binding)
    return found


class EditorCommands(Provider):
    """Offers each editing action (with the keys the keymap gives it) as a command."""

    def keys_of(self, command: EditorCommand) -> str:
        """The keys that run `command`: "t · ^t" (the list's, then the form's), remapped by the user's keymap."""
        bindings = _bindings_by_id()
        overrides = getattr(self.app, "key_overrides", {})
        shown = []
        for binding_id in command.binding_ids:
            binding = bindings.get(binding_id)
            if binding is None:
                continue
            keys = overrides.get(binding_id, binding.key)
            display = self.app.get_key_display(dataclasses.replace(binding, key=keys.split(",")[0]))
            if display not in shown:
                shown.append(display)
        return " · ".join(shown)

    def _commands(self) -> Iterator[tuple[str, str, object]]:
        screen = self.screen
        if not isinstance(screen, EditorScreen):
            return
        for command in EDITOR_COMMANDS:
            keys = self.keys_of(command)
            help_text = f"{command.name} ({keys})" if keys else command.name
            yield command.help, help_text, partial(self._run, screen, command.action)

    def _run(self, screen: EditorScreen, action: str) -> None:
        self.app.call_later(screen.run_action, action)

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
