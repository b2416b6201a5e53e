"""Helpers shared by the tests: small images and masks, the ../shared lookup."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (third-party data lives in ../shared, not in the repo)")
    return path


def run_cli(*args: object) -> tuple[int, str, str]:
    """``s2crnet ARGS...`` in this process: exit code, stdout, stderr."""
    from click.testing import CliRunner

    from s2crnet.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def harmonize_files(
    folder: Path,
    weights: Path,
    *extra: object,
    composite: str = "c.png",
    mask: str = "m.png",
    output: str = "o.png",
) -> tuple[int, str, str]:
    """``s2crnet harmonize COMPOSITE MASK -o OUTPUT --weights WEIGHTS EXTRA...`` on files
    in ``folder``: exit code, stdout, stderr."""
    return run_cli(
        "harmonize", folder / composite, folder / mask, "-o", folder / output,
        "--weights", weights, *extra,
    )  # fmt: skip


def two_masks(h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """Two non-overlapping rectangular object masks."""
    a = np.zeros((h, w), np.uint8)
    a[10:50, 10:60] = 255
    b = np.zeros((h, w), np.uint8)
    b[70:110, 90:150] = 255
    return a, b


def assert_user_error(code: int, stderr: str, *fragments: object) -> str:
    """Exit code 2 and one ``s2crnet: error:`` line holding every fragment, no traceback;
    status lines (``s2crnet: loading the model...``) may come before it."""
    assert code == 2, stderr
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    errors = [x for x in lines if x.startswith("s2crnet: error: ")]
    assert len(errors) == 1 and all(x.startswith("s2crnet: ") for x in lines), stderr
    for fragment in fragments:
        assert str(fragment) in errors[0], stderr
    return errors[0]


def make_composite(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """A smooth colourful uint8 RGB image (JPEG-friendly)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    img = np.stack(
        [base[0] + 40 * np.sin(xx / 17), base[1] + 40 * np.cos(yy / 13), base[2] + (xx + yy) / 8],
        axis=2,
    )
    return np.clip(img, 0, 255).astype(np.uint8)


def make_mask(h: int = 120, w: int = 160) -> np.ndarray:
    """A binary uint8 mask (0/255): a rectangle off-centre."""
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h * 3 // 4, w // 5 : w // 2] = 255
    return m


def save_with_orientation(path, array, orientation, **options):
    """Save ``array`` as stored pixels with an EXIF orientation tag."""
    img = Image.fromarray(array)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif.tobytes(), **options)


def make_photo_folder(root: Path, count: int = 6, size: int = 48, labels: bool = True) -> Path:
    """``images/``, ``masks/`` (and ``labels.csv``) of small synthetic photos with objects."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["image,mask,object_name,keyword,semantic_class,source"]
    for i in range(count):
        Image.fromarray(make_composite(size, size, seed=i)).save(root / "images" / f"p{i}.jpg")
        mask = np.zeros((size, size), np.uint8)
        mask[size // 4 + i % 3 : size * 3 // 4, size // 5 : size // 2 + i % 4] = 255
        Image.fromarray(mask).save(root / "masks" / f"p{i}.png")
        rows.append(f"p{i}.jpg,p{i}.png,thing,thing,{('person', 'animal', 'bogus')[i % 3]},test")
    if labels:
        (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


def make_iharmony4_tree(root: Path, size: int = 40) -> Path:
    """A tiny iHarmony4 layout: two subsets, train and test lists, exact naming rules."""
    rng = np.random.default_rng(0)
    for subset, prefix in (("HAdobe5k", "a"), ("HFlickr", "f")):
        folder = root / subset
        for name in ("composite_images", "masks", "real_images"):
            (folder / name).mkdir(parents=True)
        lists: dict[str, list[str]] = {"train": [], "test": []}
        for i in range(4):
            real = make_composite(size, size, seed=i + (10 if prefix == "f" else 0))
            mask = np.zeros((size, size), np.uint8)
            mask[5 + i : 25, 8 : 30 - i] = 255
            Image.fromarray(real).save(folder / "real_images" / f"{prefix}{i:04d}.png")
            Image.fromarray(mask).save(folder / "masks" / f"{prefix}{i:04d}_1.png")
            shift = rng.integers(-40, 40, 3)
            comp = real.astype(int)
            comp[mask > 0] += shift
            name = f"{prefix}{i:04d}_1_{i + 1}.png"
            Image.fromarray(np.clip(comp, 0, 255).astype(np.uint8)).save(
                folder / "composite_images" / name
            )
            lists["train" if i < 3 else "test"].append(name)
        for split, names in lists.items():
            (folder / f"{subset}_{split}.txt").write_text("\n".join(names) + "\n")
    return root
