"""Progress bars for long actions: on a terminal only, and only when wanted.

Shown when stderr is a terminal, unless ``MAPFOLD_PROGRESS=0`` or the
action is given ``progress=False``; ``progress=True`` forces it on, and so
does ``MAPFOLD_PROGRESS=always`` (``mapfold run --progress``).
"""
from __future__ import annotations

import os
import sys

__all__ = ["Progress"]


class Progress:
    def __init__(self, enabled: bool | None = None):
        if enabled is None:
            wanted = os.environ.get("MAPFOLD_PROGRESS", "1")
            enabled = wanted == "always" or (wanted != "0" and sys.stderr.isatty())
        self.enabled = enabled
        self._bar = None

    def stage(self, name: str, total: int) -> None:
        self.close()
        if self.enabled and total > 1:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit="task", leave=False, file=sys.stderr)

    def advance(self, n: int = 1, **postfix) -> None:
        if self._bar is not None:
            if postfix:  # before the update, which redraws the bar with it
                self._bar.set_postfix(postfix, refresh=False)
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
