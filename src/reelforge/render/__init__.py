"""Render backends: they read only the Timeline, never the document."""
