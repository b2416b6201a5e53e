"""scripts/make_object_photos.py: Qt resource files, the photograph test, mask keeping."""

from __future__ import annotations

import importlib.util
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("objects", ROOT / "scripts" / "make_object_photos.py")
objects = importlib.util.module_from_spec(spec)
spec.loader.exec_module(objects)


def make_rcc(files: dict[str, bytes]) -> bytes:
    """A version-2 Qt binary resource with one folder ``images`` holding ``files`` (the
    first stored as Qt compresses, zlib with its size first; the others as they are)."""

    def name_entry(text: str) -> bytes:
        return struct.pack(">HI", len(text), 0) + text.encode("utf-16-be")

    names = name_entry("images")
    file_names = []
    for n in files:
        file_names.append(len(names))
        names += name_entry(n)
    payload, offsets = b"", []
    for i, data in enumerate(files.values()):
        stored = struct.pack(">I", len(data)) + zlib.compress(data) if i == 0 else data
        offsets.append(len(payload))
        payload += struct.pack(">I", len(stored)) + stored

    def node(name_offset, flags, a, b) -> bytes:  # 22 bytes a node in version 2
        if flags & 2:
            return struct.pack(">IHII", name_offset, flags, a, b) + b"\0" * 8
        return struct.pack(">IHHHI", name_offset, flags, 0, 0, a) + b"\0" * 8

    tree = node(0, 2, 1, 1) + node(0, 2, len(files), 2)  # root -> images -> files
    for i, offset in enumerate(offsets):
        tree += node(file_names[i], 1 if i == 0 else 0, offset, 0)
    head = 20
    return (
        b"qres"
        + struct.pack(">IIII", 2, head, head + len(tree), head + len(tree) + len(payload))
        + tree
        + payload
        + names
    )


def test_rcc_files_are_read_compressed_or_not():
    files = {"a.webp": b"first file" * 20, "b.webp": b"second"}
    got = objects.rcc_files(make_rcc(files))
    assert got == {"/images/a.webp": files["a.webp"], "/images/b.webp": files["b.webp"]}


def test_photographs_are_told_from_drawings_and_artwork():
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8))
    drawing = Image.fromarray(np.full((64, 64, 3), 200, np.uint8))
    cutout = Image.fromarray(np.dstack([np.asarray(photo), np.zeros((64, 64), np.uint8)]))
    path = "x:/gcompris/src/activities/erase/resource/cow.webp"
    assert objects.is_photo(path, photo) == (True, "")
    assert not objects.is_photo(path, drawing)[0]
    assert objects.is_photo(path, cutout)[1].startswith("transparent")
    artwork = "x:/gcompris/src/activities/paintings/resource/a.webp"
    assert objects.is_photo(artwork, photo)[1].startswith("artwork")
    assert objects.semantic_class(path) == "animal" and objects.kind(path) == "cow"


class FakeISNet:
    """Answers with a fixed probability map, as the ONNX session would."""

    def __init__(self, p: np.ndarray) -> None:
        self.p = p

    def run(self, names, feeds):
        assert feeds["input"].shape == (1, 3, 1024, 1024)
        return [self.p[None, None]]


def test_masks_are_kept_only_for_one_clear_object():
    rgb = np.zeros((96, 128, 3), np.uint8)
    yy, xx = np.mgrid[0:1024, 0:1024]
    disc = (((yy - 512) ** 2 + (xx - 512) ** 2) < 300**2).astype(np.float32)
    mask, why = objects.object_mask(FakeISNet(disc), rgb)
    assert why == "" and mask.shape == (96, 128) and 0.1 < (mask > 0).mean() < 0.4
    assert objects.object_mask(FakeISNet(np.full((1024, 1024), 0.6, np.float32)), rgb)[
        1
    ].startswith("undecided")
    tiny = (((yy - 512) ** 2 + (xx - 512) ** 2) < 40**2).astype(np.float32)
    assert objects.object_mask(FakeISNet(tiny), rgb)[1].startswith("area")
    two = disc.copy()
    two[:, :200] = 1.0  # a second, large part
    assert objects.object_mask(FakeISNet(two), rgb)[1].startswith("scattered")


def test_a_wrong_package_file_stops_before_anything_is_fetched(tmp_path, monkeypatch):
    fetched = []
    monkeypatch.setattr(objects, "_fetched", lambda *args: fetched.append(args))
    (tmp_path / "wrong.deb").write_bytes(b"not a package")
    cache = tmp_path / "cache"
    with pytest.raises(SystemExit, match=r"wrong\.deb: not gcompris-qt-data=3\.1-2 \(its SHA"):
        objects.fetch(cache, tmp_path / "wrong.deb", None)
    with pytest.raises(SystemExit, match=r"gone\.tgz: no such file$"):
        objects.fetch(cache, None, tmp_path / "gone.tgz")
    assert fetched == [] and not cache.exists()
    cache.mkdir()
    (cache / "gcompris-qt-data_3.1-2_all.deb").write_bytes(b"damaged")
    monkeypatch.undo()
    with pytest.raises(SystemExit, match=r"SHA-256 differs\); delete it to fetch it again$"):
        objects.fetch(cache, None, None)  # the cached file is checked before npm is fetched
