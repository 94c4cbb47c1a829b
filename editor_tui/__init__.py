"""reelforge's terminal scene editor (Textual). Changes projects only through reelforge's edit operations."""
