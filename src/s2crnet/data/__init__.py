"""Training and evaluation data: iHarmony4, and synthetic composites from any photos.

Names are imported on first use (the datasets need PyTorch, the rest does not).
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "SUBSETS": ".triplets",
    "IHarmony4": "iharmony4",
    "Triplet": ".triplets",
    "list_triplets": ".triplets",
    "read_label_list": ".triplets",
    "PhotoComposites": "photos",
    "list_photos": "photos",
    "OPS": "synthetic",
    "ColourFamily": "synthetic",
    "make_composite": "synthetic",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
