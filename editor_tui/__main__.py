"""`python -m editor_tui PROJECT.json`: the scene editor, as `reelforge edit` runs it."""

import sys
from pathlib import Path

from editor_tui.app import run_editor

if len(sys.argv) != 2:
    print("usage: python -m editor_tui PROJECT.json", file=sys.stderr)
    sys.exit(2)
sys.exit(run_editor(Path(sys.argv[1])))
