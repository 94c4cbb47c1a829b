"""Allows `python -m reelforge`."""

from reelforge.cli import main

raise SystemExit(main())
