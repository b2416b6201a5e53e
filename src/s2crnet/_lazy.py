"""Package attributes imported on first use (PEP 562), so that importing a package
does not import PyTorch for users of the torch-free parts."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: name -> submodule that defines it."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{exports[name]}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__


def deprecated_aliases(module: str, moved: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for names that moved (name -> ``s2crnet`` submodule now
    holding it): the name still works, with a :class:`DeprecationWarning`, for one release.
    The target is imported by name on first use, so the old module does not import it."""

    def __getattr__(name: str) -> Any:
        if name not in moved:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target = f"s2crnet.{moved[name]}"
        warnings.warn(
            f"{module}.{name} is deprecated: use {target}.{name}", DeprecationWarning, stacklevel=2
        )
        return getattr(import_module(target), name)

    return __getattr__
