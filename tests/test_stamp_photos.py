"""scripts/make_stamp_photos.py: package reading, the photograph test, pasting, the folder."""

from __future__ import annotations

import importlib.util
import io
import lzma
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from s2crnet.data.photos import PhotoComposites, list_photos

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("stamps", ROOT / "scripts" / "make_stamp_photos.py")
stamps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stamps)


def _png(rgba: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    return buf.getvalue()


def _disc(size: int, photo: bool) -> np.ndarray:
    """An opaque disc on a transparent square: noisy (a photograph) or flat (a drawing)."""
    rng = np.random.default_rng(size)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (size, size, 3)) if photo else (200, 40, 40)
    yy, xx = np.mgrid[:size, :size]
    rgba[..., 3] = np.where((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 2.2) ** 2, 255, 0)
    return rgba


def _deb(files: dict[str, bytes]) -> bytes:
    """A Debian package (an ar archive) whose data.tar.xz holds ``files``."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    members = {"debian-binary": b"2.0\n", "data.tar.xz": lzma.compress(tar_bytes.getvalue())}
    out = b"!<arch>\n"
    for name, data in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n"
        out += header.encode() + data + (b"\n" if len(data) % 2 else b"")
    return out


def test_package_reading_and_the_photograph_test():
    deb = _deb(
        {
            "./usr/share/tuxpaint/stamps/fruit/apple.png": _png(_disc(80, photo=True)),
            "./usr/share/tuxpaint/stamps/cartoon/sun.png": _png(_disc(80, photo=False)),
            "./usr/share/tuxpaint/stamps/fruit/tiny.png": _png(_disc(20, photo=True)),
            "./usr/share/doc/readme.png": _png(_disc(80, photo=True)),
        }
    )
    pngs = stamps.stamp_pngs(deb)
    assert len(pngs) == 3  # only the stamps
    kept = stamps.photographic(pngs)
    assert [kind for kind, _ in kept] == ["fruit"]  # the drawing and the tiny one are out
    assert kept[0][1].size == (73, 73)  # cropped to its alpha (a disc of radius 36.4)
    with pytest.raises(ValueError, match="ar header"):
        stamps.deb_members(b"not a package")


def test_flatness_tells_drawings_from_photographs():
    assert stamps.flatness(_disc(60, photo=False)) > 0.9
    assert stamps.flatness(_disc(60, photo=True)) < 0.01


def test_pasted_photos_form_a_training_folder(tmp_path):
    bg = tmp_path / "bg"
    bg.mkdir()
    for i in range(2):
        Image.fromarray(np.full((120, 160, 3), 60 * i + 30, np.uint8)).save(bg / f"b{i}.jpg")
    stamp = Image.fromarray(_disc(50, photo=True))
    stamp = stamp.crop(stamp.getchannel("A").getbbox())
    out = tmp_path / "out"
    stamps.build([("fruit", stamp)], sorted(bg.iterdir()), out, count=3, long_side=100)
    photos = list_photos(out)
    assert len(photos) == 3 and {p.kind for p in photos} == {"fruit"}
    for p in photos:
        mask = np.asarray(Image.open(p.mask))
        image = Image.open(p.image)
        assert max(image.size) == 100 and mask.shape == image.size[::-1]
        assert 0.04 < (mask > 127).mean() < 0.5  # the object covers 8-50% of its box
    assert not (tmp_path / "out.part").exists()
    sample = PhotoComposites(out, size=32)[(0, 0)]
    assert sample["mask"].sum() > 0


def test_the_script_refuses_bad_folders(tmp_path, capsys):
    out = ["--out", str(tmp_path / "o")]
    assert stamps.main(["--backgrounds", str(tmp_path / "none"), *out]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert stamps.main(["--backgrounds", str(tmp_path / "empty"), *out]) == 2
    assert "no images" in capsys.readouterr().err
