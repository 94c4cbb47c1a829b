"""Counters of the work the speech engine did in this process (tests use them to prove cache hits)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class TTSStats:
    synthesized: int = 0  # narrations run through the model (cache misses)
    cache_hits: int = 0  # narrations served from the cache without the model
    models_loaded: int = 0  # voice models loaded into onnxruntime
    sentence_hits: int = 0  # sentences of a synthesized narration reused from the sentence cache
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, counter: str) -> None:
        """Add one to `counter` (safe from several threads: narrations are synthesized in a pool)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def reset(self) -> None:
        with self._lock:
            self.synthesized = self.cache_hits = self.models_loaded = self.sentence_hits = 0


stats = TTSStats()
