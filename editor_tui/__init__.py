"""The reelforge terminal scene editor (Textual), built on the core's Project and edit operations."""
