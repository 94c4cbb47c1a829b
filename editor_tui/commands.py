"""The command palette's editor commands: every editing action by name, with its key and description."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.command import DiscoveryHit, Hit, Hits, Provider

from editor_tui.screens.editor import EditorScreen


class EditorCommands(Provider):
    """Offers each binding of the editor screen (as remapped by the keymap) as a command."""

    def _commands(self) -> Iterator[tuple[str, str, object]]:
        screen = self.screen
        if not isinstance(screen, EditorScreen):
            return
        keys: dict[str, str] = {}
        for key, active in screen.active_bindings.items():
            if active.binding.id and active.binding.id.startswith("editor."):
                keys.setdefault(active.binding.id, self.app.get_key_display(active.binding))
        for binding in EditorScreen.BINDINGS:
            name = binding.tooltip or binding.description
            key = keys.get(binding.id or "", binding.key)
            yield name, f"{binding.description} ({key})", partial(self._run, screen, binding.action)

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
