"""The extra outputs of harmonize: the curve plot, the side-by-side comparison, and
their checks before any work."""

from __future__ import annotations

import numpy as np
from PIL import Image

from _helpers import harmonize_files


def test_plot_and_compare_pictures(files, weights_file):
    extra = ("--plot-curves", files / "p.png", "--compare", files / "cmp.png")
    code, _, err = harmonize_files(files, weights_file, *extra, output="o.jpg")
    assert code == 0, err
    plot = Image.open(files / "p.png")
    assert plot.format == "PNG" and plot.size[0] > 300
    compare = np.asarray(Image.open(files / "cmp.png"))
    assert compare.shape[0] == 120 and compare.shape[1] > 320
    assert (compare == [255, 220, 0]).all(axis=-1).any()  # the yellow outline


def test_extra_outputs_are_checked_before_work(files, weights_file):
    for args, message in (
        (["--save-curves", files / "k.txt"], ".json"),
        (["--export-cube", files / "missing" / "k.cube"], "does not exist"),
        (["--compare", files / "m.png"], "overwrite the input"),
        (["--reference-mask", files / "m.png"], "needs --reference-image"),
    ):
        code, _, err = harmonize_files(files, weights_file, *args)
        assert code == 2 and message in err, err
        assert not (files / "o.png").exists()
