"""Deprecated alias of :mod:`s2crnet.folders`, kept for one release (0.2 removes it)."""

import warnings

from .folders import iharmony4_mask_stem, list_images, pair_images

__all__ = ["iharmony4_mask_stem", "list_images", "pair_images"]

warnings.warn(
    "s2crnet.batch is deprecated: import from s2crnet.folders",
    DeprecationWarning,
    stacklevel=2,
)
