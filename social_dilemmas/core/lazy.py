"""Lazy package exports (PEP 562): a name is imported from its submodule on first access.

Packages whose submodules are heavy or import each other list ``name -> submodule`` and get
their module ``__getattr__`` from :func:`lazy_getattr`, so ``import social_dilemmas.X`` stays
cheap and free of import circles.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` serving ``exports`` (name -> submodule of ``package``)."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
