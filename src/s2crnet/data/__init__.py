"""Training and evaluation data: iHarmony4, and synthetic composites from any photos."""

from .iharmony4 import SUBSETS, IHarmony4, Triplet, list_triplets, read_label_list
from .photos import PhotoComposites, list_photos
from .synthetic import OPS, ColourFamily, make_composite

__all__ = [
    "OPS",
    "SUBSETS",
    "ColourFamily",
    "IHarmony4",
    "PhotoComposites",
    "Triplet",
    "list_photos",
    "list_triplets",
    "make_composite",
    "read_label_list",
]
