"""Optional dependencies: import one, or say which extra installs it.

Import rule: imports nothing at module level (runs in workers too).
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["require", "available"]


def available(module: str) -> bool:
    """Is ``module`` importable here (without importing it)?

    >>> available("json"), available("surely_not_a_module_name")
    (True, False)
    """
    return importlib.util.find_spec(module) is not None


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``import module``, or an ``ImportError`` naming the feature and the extra to install.

    >>> require("surely_not_a_module_name", "formats", "zstd files")
    Traceback (most recent call last):
    ImportError: zstd files need surely_not_a_module_name: pip install 'mapfold[formats]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{feature} need {module}: pip install 'mapfold[{extra}]'", name=module) from exc
