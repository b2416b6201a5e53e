"""scripts/compact_photos.py: the compact copy keeps pairs, sizes, classes and kinds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers import make_photo_folder
from s2crnet.data.photos import PhotoComposites, list_photos

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("compact", ROOT / "scripts" / "compact_photos.py")
compact = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compact)


def test_compact_copy_keeps_pairs_sizes_and_labels(tmp_path, capsys):
    src = make_photo_folder(tmp_path / "photos", count=4, size=96)
    Image.new("RGB", (40, 30), (10, 200, 30)).save(src / "images" / "p3.jpg")  # small: kept
    Image.new("L", (40, 30), 255).save(src / "masks" / "p3.png")
    out = tmp_path / "compact"
    assert compact.main([str(src), "--out", str(out), "--short-side", "64", "--jobs", "1"]) == 0
    assert "4 photos with masks" in capsys.readouterr().out
    assert not (tmp_path / "compact.part").exists()
    before, after = list_photos(src), list_photos(out)
    assert [(p.label, p.kind) for p in after] == [(p.label, p.kind) for p in before]
    for p in after:
        assert p.image.suffix == ".webp"
        with Image.open(p.image) as im, Image.open(p.mask) as m:
            assert im.size == m.size
            size = im.size
    assert Image.open(after[0].image).size == (64, 64)  # 96 -> 64
    assert size == (40, 30)  # already small: not enlarged
    mask = np.asarray(Image.open(after[3].mask))
    assert mask.min() == 255  # a full mask stays full
    with pytest.warns(UserWarning, match="left out 1 of 4"):  # the full mask: no background
        sample = PhotoComposites(out, size=32, seed=0, skip_bad=True)[0]
    assert sample["composite"].shape == (3, 32, 32)


def test_compact_errors_are_one_line(tmp_path, capsys):
    src = make_photo_folder(tmp_path / "photos", count=2)
    assert compact.main([str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "none" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    (tmp_path / "taken").mkdir()
    assert compact.main([str(src), "--out", str(tmp_path / "taken")]) == 2
    assert "exists" in capsys.readouterr().err
    assert compact.main([str(src), "--out", str(tmp_path / "o"), "--quality", "0"]) == 2
    assert "--quality" in capsys.readouterr().err


def test_unreadable_photo_is_named(tmp_path, capsys):
    src = make_photo_folder(tmp_path / "photos", count=2)
    (src / "images" / "p1.jpg").write_bytes(b"not a jpeg")
    assert compact.main([str(src), "--out", str(tmp_path / "o"), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "p1.jpg" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.part").exists()
