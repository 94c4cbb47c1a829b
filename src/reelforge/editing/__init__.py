"""Changing a document: pure edit operations, the project being edited (undo, redo, staleness, saving) and
turning a plain-text or Markdown script into a new document.

    from reelforge import Project, edit
    project = Project.open("project.json")
    project.apply(edit.update_scene("intro", narration={"text": "A new first line."}))
"""
