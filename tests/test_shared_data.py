"""Real files from ../shared (skipped when it is absent): iHarmony4 layout and real composites."""

from __future__ import annotations

import numpy as np
import pytest

from _helpers import run_cli, shared_path
from s2crnet import harmonize
from s2crnet.folders import pair_images
from s2crnet.inputs import load_inputs


def test_iharmony4_dev_pairs_every_composite_with_its_mask():
    root = shared_path("data", "iharmony4-dev")
    for subset in sorted(p for p in root.iterdir() if p.is_dir()):
        listed = (subset / f"{subset.name}_test.txt").read_text().split()
        pairs = pair_images(subset / "composite_images", subset / "masks")
        assert sorted(c.name for c, _ in pairs) == sorted(listed)
        for composite, mask in pairs:
            assert mask is not None and mask.stem == composite.stem.rsplit("_", 1)[0]


def test_real_iharmony4_triplet_at_full_resolution(model):
    subset = shared_path("data", "iharmony4-dev", "HFlickr")
    composite, mask = pair_images(subset / "composite_images", subset / "masks")[0]
    picture, values = load_inputs(composite, mask)
    result = harmonize(composite, mask, model=model)
    assert result.image.shape == picture.rgb.shape
    outside = values == 0
    np.testing.assert_array_equal(result.image[outside], picture.rgb[outside])


def test_real_composites_from_people():
    folder = shared_path("data", "real-composites")
    pairs = pair_images(folder / "composites", folder / "masks")
    assert pairs and all(mask is not None for _, mask in pairs)
    for composite, mask in pairs[:3]:
        picture, values = load_inputs(composite, mask)
        assert values.shape == picture.shape


@pytest.mark.slow
def test_cli_batch_over_every_dev_subset(tmp_path, weights_file):
    root = shared_path("data", "iharmony4-dev")
    for subset in sorted(p for p in root.iterdir() if p.is_dir()):
        out = tmp_path / subset.name
        code, _, err = run_cli(
            "harmonize", subset / "composite_images", subset / "masks", "-o", out,
            "--weights", weights_file,
        )  # fmt: skip
        assert code == 0, err
        assert len(list(out.iterdir())) == len(list((subset / "composite_images").iterdir()))
