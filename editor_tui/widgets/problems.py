"""The problems panel: what validation finds, updated live after every edit; it never blocks typing."""

from __future__ import annotations

import re

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from reelforge.errors import Problem

_SCENE_PATH = re.compile(r"^scenes\[(\d+)\]\.?")


def describe(problem: Problem, scene_ids: list[str]) -> Text:
    """One problem as a line: where (scene number and id) and what."""
    line = Text()
    mark, style = ("⚠", "yellow") if problem.severity == "warning" else ("✗", "red")
    line.append(f"{mark} ", style=style)
    match = _SCENE_PATH.match(problem.path)
    if match and int(match.group(1)) < len(scene_ids):
        index = int(match.group(1))
        line.append(f"scene {index + 1} ({scene_ids[index]})", style="bold")
        rest = problem.path[match.end():]
        if rest:
            line.append(f" {rest}", style="dim")
    else:
        line.append(problem.path or "document", style="bold")
    line.append(f": {problem.message}")
    return line


class ProblemsPanel(VerticalScroll, can_focus=False):
    """Lists problems; an empty list says so."""

    def compose(self):
        yield Static(id="problem-lines")

    def show(self, problems: list[Problem], scene_ids: list[str]) -> None:
        self.border_title = f"Problems ({len(problems)})" if problems else "Problems"
        lines = Text("\n").join(describe(problem, scene_ids) for problem in problems)
        self.query_one("#problem-lines", Static).update(lines if problems else Text("No problems found.", style="dim"))
        self.set_class(bool(problems), "-has-problems")
