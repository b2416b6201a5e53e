"""Reading and writing images and masks: every odd format a user has, one clear error each.

Images become a :class:`Picture`: an ``(H, W, 3)`` RGB array (uint8, uint16 or float32)
plus what is needed to give the user back the same kind of image (alpha, grey, ICC
profile). EXIF orientation is applied on reading; 16-bit PNG and TIFF keep 16 bits.
Masks become ``(H, W)`` uint8 arrays, 0 = background, 255 = object, values between blend.
"""

from __future__ import annotations

import errno
import io
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import check_output_folder, write_atomic
from .errors import InputError
from .pixels import from_unit, to_uint8

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "InputError",
    "Picture",
    "RawMask",
    "array_from_pil",
    "encode_image",
    "mask_from_array",
    "mask_from_pil",
    "orient",
    "picture_from_array",
    "picture_from_pil",
    "read_image",
    "read_label_map",
    "read_mask",
    "to_uint8",
    "verify_image",
    "write_image",
]

#: Output extensions we write, and whether the format stores alpha / 16 bits.
WRITABLE = {
    ".png": (True, True),
    ".tif": (True, True),
    ".tiff": (True, True),
    ".jpg": (False, False),
    ".jpeg": (False, False),
    ".webp": (True, False),
    ".bmp": (False, False),
}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")


@dataclass(frozen=True)
class Picture:
    """A decoded image, RGB first, with what it takes to restore its original kind.

    Attributes:
        rgb: ``(H, W, 3)`` uint8, uint16 or float32 (in [0, 1]), C-contiguous.
        alpha: ``(H, W)`` of the same dtype, or None.
        grey: the source had one colour channel (results are turned back into grey).
        orientation: the EXIF orientation (1-8) that was applied when reading.
        icc_profile: the source's ICC profile, kept for writing.
        source: the file it was read from (messages name it), or None.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    grey: bool = False
    orientation: int = 1
    icc_profile: bytes | None = None
    source: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.rgb.shape[:2]

    def channels(self) -> np.ndarray:
        """The image in its original channel layout: ``(H, W)``, ``(H, W, 2/3/4)``."""
        import cv2

        base = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY) if self.grey else self.rgb
        return base if self.alpha is None else np.dstack([base, self.alpha])


@dataclass(frozen=True)
class RawMask:
    """A mask as stored (before its EXIF orientation), so it can follow the composite's."""

    values: np.ndarray  # (H, W) uint8
    orientation: int = 1

    def oriented(self, orientation: int | None = None) -> np.ndarray:
        return orient(self.values, self.orientation if orientation is None else orientation)


def mask_picture(values: np.ndarray) -> Picture:
    """An ``(H, W)`` uint8 mask as a grey :class:`Picture`, to be written as an image."""
    return Picture(rgb=np.ascontiguousarray(np.dstack([values] * 3)), grey=True)


# --------------------------------------------------------------------------- orientation
def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an ``(H, W, ...)`` array, like Pillow's exif_transpose."""
    ops = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    if orientation not in ops:
        orientation = 1  # invalid tags are ignored, as by Pillow and browsers
    out = ops[orientation](array)
    return out if orientation == 1 else np.ascontiguousarray(out)


# --------------------------------------------------------------------------- decoding
#: The largest image (in pixels) opened unless asked for more: 256 megapixels, e.g.
#: 16384x16384, a guard against "decompression bombs" (a small file that decodes to
#: gigabytes). ``max_pixels`` (CLI ``--max-pixels``) raises it; 0 removes it.
DEFAULT_MAX_PIXELS = 1 << 28

_PIL_LIMIT = threading.Lock()


def _check_pixels(path: Path, size: tuple[int, int], max_pixels: int | None) -> None:
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    pixels = size[0] * size[1]
    if limit > 0 and pixels > limit:
        raise InputError(
            f"{path}: the image is {size[0]}x{size[1]} ({pixels:,} pixels), above the limit "
            f"of {limit:,} that guards against decompression bombs; to open it on purpose "
            f"pass --max-pixels {pixels} (Python: max_pixels={pixels}; 0 = no limit)"
        )


def _pil_open(path: Path) -> Any:
    """``Image.open`` (the header only) without Pillow's own pixel limit: its warning and
    error are replaced by :func:`_check_pixels`. The limit is a module global, so it is
    lifted under a lock and only while opening."""
    from PIL import Image

    with _PIL_LIMIT:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _open(path: Path, what: str, max_pixels: int | None = None) -> Any:
    """Open and fully decode with Pillow; every failure becomes an InputError naming ``path``.

    Pillow's own pixel limit (a warning, then an error at twice it) is replaced by
    ``max_pixels`` (default :data:`DEFAULT_MAX_PIXELS`; 0 = none).
    """
    from PIL import UnidentifiedImageError

    if not path.exists():
        raise InputError(f"{path}: no such {what} file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what} file")
    try:
        img = _pil_open(path)
        _check_pixels(path, img.size, max_pixels)
        img.load()
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image file (or an unsupported format)") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read the {what} file (permission denied)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: corrupt or truncated image ({exc})") from None
    return img


def _bits_per_channel(img: Any) -> int:
    """8 or 16: Pillow decodes 16-bit colour PNG/TIFF as 8-bit RGB, so ask the file itself."""
    if img.format == "PNG" and img.mode in ("RGB", "RGBA"):
        fp = img.filename
        with open(fp, "rb") as f:
            header = f.read(25)
        return 16 if len(header) == 25 and header[24] == 16 else 8
    if img.format == "TIFF" and img.mode in ("RGB", "RGBA"):
        bits = img.tag_v2.get(258, (8,))
        return 16 if max(bits) == 16 else 8
    return 8


def _read_16bit_colour(path: Path) -> np.ndarray:
    import cv2

    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None or data.dtype != np.uint16:
        raise InputError(f"{path}: cannot decode this 16-bit image")
    code = cv2.COLOR_BGRA2RGBA if data.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(data, code)


def _pil_to_array(img: Any) -> np.ndarray:
    """A decoded Pillow image -> ``(H, W)``, ``(H, W, 2)``, ``(H, W, 3)`` or ``(H, W, 4)``."""
    mode = img.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(img)
    if mode == "1":
        return np.asarray(img.convert("L"))
    if mode.startswith("I;16") or mode == "I":
        return np.clip(np.asarray(img, dtype=np.int64), 0, 65535).astype(np.uint16)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        return np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
    if mode in ("RGBa", "RGBX"):
        return np.asarray(img.convert("RGBA" if mode == "RGBa" else "RGB"))
    if mode == "La":
        return np.asarray(img.convert("LA"))
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(img.convert("RGB"))
    raise ValueError(f"unsupported image mode {mode}")


def _orientation(img: Any) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not stop the image from loading
        warnings.warn(f"{img.filename}: unreadable EXIF data ignored", stacklevel=3)
        return 1


def picture_from_array(array: np.ndarray, name: str = "composite") -> Picture:
    """``(H, W)``, ``(H, W, 1|2|3|4)`` array (uint8, uint16, float in [0, 1]) -> Picture."""
    a = np.asarray(array)
    if a.dtype == np.float64 or a.dtype == np.float16:
        a = a.astype(np.float32)
    if a.dtype not in (np.uint8, np.uint16, np.float32):
        raise InputError(f"{name}: unsupported dtype {a.dtype} (use uint8, uint16 or float)")
    if a.dtype == np.float32 and a.size:
        if not np.isfinite(a).all():
            raise InputError(f"{name}: image contains NaN or infinite values")
        if a.min() < 0 or a.max() > 1:
            raise InputError(f"{name}: a float image must hold values in [0, 1]")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        grey, alpha, colour = True, None, a
    elif a.ndim == 3 and a.shape[2] == 2:
        grey, alpha, colour = True, a[..., 1], a[..., 0]
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        grey, alpha, colour = False, (a[..., 3] if a.shape[2] == 4 else None), a[..., :3]
    else:
        raise InputError(f"{name}: expected an HxW or HxWxC image (C = 1-4), got shape {a.shape}")
    if min(a.shape[:2]) < 1:
        raise InputError(f"{name}: image is empty ({a.shape[1]}x{a.shape[0]})")
    rgb = np.repeat(colour[..., None], 3, axis=2) if grey else np.ascontiguousarray(colour)
    alpha = None if alpha is None else np.ascontiguousarray(alpha)
    return Picture(rgb=rgb, alpha=alpha, grey=grey)


def picture_from_pil(img: Any, name: str = "composite") -> Picture:
    try:
        array = _pil_to_array(img)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return replace(picture_from_array(array, name), icc_profile=img.info.get("icc_profile"))


def read_image(path: str | os.PathLike, max_pixels: int | None = None) -> Picture:
    """Decode an image file into a :class:`Picture` (EXIF orientation applied).

    ``max_pixels``: refuse larger images (default :data:`DEFAULT_MAX_PIXELS`; 0 = no limit).
    """
    path = Path(path)
    img = _open(path, "image", max_pixels)
    orientation = _orientation(img)
    if _bits_per_channel(img) == 16:
        array = _read_16bit_colour(path)
        pic = replace(picture_from_array(array, str(path)), icc_profile=img.info.get("icc_profile"))
    else:
        pic = picture_from_pil(img, str(path))
    if orientation != 1:
        pic = replace(
            pic,
            rgb=orient(pic.rgb, orientation),
            alpha=None if pic.alpha is None else orient(pic.alpha, orientation),
            orientation=orientation,
        )
    return replace(pic, source=str(path))


# --------------------------------------------------------------------------- masks
def mask_from_array(array: np.ndarray, name: str = "mask") -> np.ndarray:
    """Any mask array -> ``(H, W)`` uint8, 0 = background, 255 = object.

    Accepts bool; uint8 as 0/255 (or 0/1); uint16; float in [0, 1]; and grey, RGB or RGBA
    images: RGB counts its brightest channel (a red mask is a full mask), RGBA its alpha
    unless the alpha is fully opaque.
    """
    m = np.asarray(array)
    if m.ndim == 3 and m.shape[2] in (2, 4):
        alpha = m[..., -1]
        opaque = np.iinfo(m.dtype).max if m.dtype.kind in "ui" else 1.0
        m = m[..., :-1] if np.all(alpha == opaque) else alpha
    if m.ndim == 3 and m.shape[2] in (1, 3):
        m = m.max(axis=2)
    if m.ndim != 2:
        raise InputError(f"{name}: expected an HxW mask, got shape {m.shape}")
    if m.dtype == bool:
        return m.astype(np.uint8) * 255
    if m.dtype == np.uint8:
        return m * 255 if m.size and m.max() <= 1 else np.ascontiguousarray(m)
    if m.dtype == np.uint16:
        return to_uint8(m)
    if m.dtype.kind == "f":
        if m.size and (not np.isfinite(m).all() or m.min() < 0 or m.max() > 1):
            raise InputError(f"{name}: a float mask must hold values in [0, 1]")
        return np.round(m * 255).astype(np.uint8)
    if m.dtype.kind in "iu":
        if m.size and (m.min() < 0 or m.max() > 255):
            raise InputError(f"{name}: integer mask values must be in [0, 255]")
        return mask_from_array(m.astype(np.uint8), name)
    raise InputError(f"{name}: unsupported mask dtype {m.dtype}")


def mask_from_pil(img: Any, name: str = "mask") -> np.ndarray:
    """A PIL image used as a mask -> ``(H, W)`` uint8 (see :func:`mask_from_array`)."""
    try:
        array = _pil_to_array(img)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return mask_from_array(array, name)


def read_mask(path: str | os.PathLike, max_pixels: int | None = None) -> RawMask:
    """Decode a mask file (grey, RGB, RGBA, palette, 1-bit, 16-bit) as stored."""
    path = Path(path)
    img = _open(path, "mask", max_pixels)
    orientation = _orientation(img)
    if _bits_per_channel(img) == 16:
        return RawMask(mask_from_array(_read_16bit_colour(path), str(path)), orientation)
    return RawMask(mask_from_pil(img, str(path)), orientation)


def read_label_map(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Decode a label-map file (0 = background, 1, 2, ... = objects) as stored: the
    integer values, not scaled."""
    return _pil_to_array(_open(Path(path), "label map", max_pixels))


def array_from_pil(img: Any) -> np.ndarray:
    """A Pillow image's values, unscaled: ``(H, W)`` or ``(H, W, C)``."""
    return _pil_to_array(img)


# --------------------------------------------------------------------------- writing
def check_output_path(path: Path) -> tuple[bool, bool]:
    ext = path.suffix.lower()
    if ext not in WRITABLE:
        raise InputError(
            f"{path}: unsupported output format {ext or '(no extension)'}; "
            f"use one of {', '.join(WRITABLE)}"
        )
    check_output_folder(path)
    return WRITABLE[ext]


def encode_image(path: str | os.PathLike, picture: Picture, quality: int = 95) -> bytes:
    """The bytes of ``picture`` in the format of ``path``'s extension.

    16-bit pictures stay 16-bit in PNG and TIFF and are rounded to 8 bits elsewhere, with
    a warning; alpha is dropped, with a warning, for formats that cannot store it (JPEG,
    BMP).
    """
    import cv2
    from PIL import Image

    path = Path(path)
    keeps_alpha, keeps_16 = check_output_path(path)
    pixels = picture.channels()
    if picture.alpha is not None and not keeps_alpha:
        warnings.warn(
            f"{path}: {path.suffix} cannot store transparency; alpha dropped", stacklevel=3
        )
        pixels = pixels[..., :-1] if pixels.ndim == 3 and pixels.shape[2] in (2, 4) else pixels
        if pixels.ndim == 3 and pixels.shape[2] == 1:
            pixels = pixels[..., 0]
    if pixels.dtype == np.float32:
        pixels = from_unit(pixels, np.uint8)
    if pixels.dtype == np.uint16 and not keeps_16:
        warnings.warn(
            f"{path}: {path.suffix} stores 8 bits per channel; the 16-bit image is rounded "
            "to 8 bits (write .png or .tif to keep 16)",
            stacklevel=3,
        )
        pixels = to_uint8(pixels)

    if pixels.dtype == np.uint16:
        if pixels.ndim == 3 and pixels.shape[2] == 2:  # grey + alpha: store as RGBA
            g, a = pixels[..., 0], pixels[..., 1]
            pixels = np.dstack([g, g, g, a])
        if pixels.ndim == 3:
            code = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
            pixels = cv2.cvtColor(pixels, code)
        ok, buffer = cv2.imencode(path.suffix.lower(), pixels)
        if not ok:
            raise InputError(f"{path}: OpenCV could not encode the image")
        return buffer.tobytes()
    options: dict[str, Any] = {}
    if path.suffix.lower() in (".jpg", ".jpeg", ".webp"):
        options["quality"] = quality
    if picture.icc_profile and path.suffix.lower() != ".bmp":
        options["icc_profile"] = picture.icc_profile
    fmt = Image.registered_extensions()[path.suffix.lower()]
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, format=fmt, **options)
    return stream.getvalue()


def verify_image(shape: tuple[int, int]) -> Callable[[Path], None]:
    """A check for :func:`s2crnet.atomic.write_atomic`: the file decodes completely to an
    image of ``shape`` ``(H, W)``; anything else raises an ``OSError``. JPEGs decode at
    1/8 scale (5x faster): the whole stream is still read and entropy-decoded."""

    def check(path: Path) -> None:
        import cv2

        try:
            with _pil_open(path) as img:
                size = img.size
                if img.format == "JPEG":  # every byte is still entropy-decoded, so a
                    img.draft(img.mode, (size[0] // 8, size[1] // 8))  # cut file fails
                img.load()
        except Exception as exc:  # Pillow raises several types for a damaged file
            with open(path, "rb") as f:  # Pillow cannot decode every 16-bit TIFF; OpenCV can
                tiff = f.read(4) in (b"II*\x00", b"MM\x00*")
            if tiff and (data := cv2.imread(str(path), cv2.IMREAD_UNCHANGED)) is not None:
                size = (data.shape[1], data.shape[0])
            else:
                raise OSError(errno.EIO, f"the written file does not decode ({exc})") from None
        if size != (shape[1], shape[0]):
            raise OSError(errno.EIO, f"the written file decodes to {size}, not {shape[::-1]}")

    return check


def write_image(path: str | os.PathLike, picture: Picture, quality: int = 95) -> None:
    """Encode ``picture`` (see :func:`encode_image`) and write it atomically: a temporary
    file, fsynced, decoded back completely, then renamed into place.

    Raises:
        InputError: an unsupported format or a missing folder.
        OutputError: the file could not be written (disk full, read-only, permission).
    """
    write_atomic(path, encode_image(path, picture, quality), verify_image(picture.shape))
