"""What a batch job harmonizes: the manifest (a CSV or Parquet table, or two folders
paired as ``harmonize`` pairs them) as a PyArrow table, and the file systems its paths
live on (local paths, ``file://``, ``s3://``, ``gs://``... anything
``pyarrow.fs.FileSystem.from_uri`` reads). No Ray here."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError

__all__ = [
    "COLUMNS",
    "RESULT_COLUMNS",
    "filesystem",
    "local_path",
    "output_path",
    "read_manifest",
    "result_schema",
]

#: The manifest's columns: required, then optional.
COLUMNS = ("composite", "mask", "label", "strength", "output")
#: The results table's columns, one row per input row.
RESULT_COLUMNS = (
    "composite", "mask", "output", "status", "label", "label_source", "strength", "curves",
    "seconds", "resumed",
)  # fmt: skip


def _column_types() -> dict[str, Any]:
    """The type of each of :data:`COLUMNS`."""
    import pyarrow as pa

    return {"composite": pa.string(), "mask": pa.string(), "label": pa.string(),
            "strength": pa.float64(), "output": pa.string()}  # fmt: skip


def result_schema() -> Any:
    """The results table's schema: :data:`RESULT_COLUMNS`, typed."""
    import pyarrow as pa

    text, number = pa.string(), pa.float64()
    types = (text, text, text, text, text, text, number,
             pa.list_(pa.list_(pa.uint8(), 256), 3), number, pa.bool_())  # fmt: skip
    return pa.schema(list(zip(RESULT_COLUMNS, types, strict=True)))


def is_uri(path: str) -> bool:
    """Whether ``path`` names a file system (``s3://bucket/key``), not a local path."""
    return "://" in path


def local_path(path: str) -> Path | None:
    """The local file ``path`` names (a plain path or a ``file://`` URI), or None for an
    object store (``s3://``, ``gs://``...), which is written in one upload instead.

    >>> local_path("file:///data/a.jpg"), local_path("s3://bucket/a.jpg")
    (PosixPath('/data/a.jpg'), None)
    """
    if is_uri(path) and not path.startswith("file://"):
        return None
    return Path(path.removeprefix("file://"))


def filesystem(path: str | os.PathLike) -> tuple[Any, str]:
    """The PyArrow file system of ``path`` and the path on it."""
    from pyarrow import fs

    text = str(path)
    if not is_uri(text):
        return fs.LocalFileSystem(), str(Path(text).absolute())
    try:
        return fs.FileSystem.from_uri(text)
    except (ValueError, OSError) as exc:
        raise InputError(f"{text}: cannot open its file system ({exc})") from None


def join(folder: str, name: str) -> str:
    """``name`` inside ``folder`` (a local path or a URI)."""
    if is_uri(folder):
        return folder.rstrip("/") + "/" + name
    return str(Path(folder) / name)


def output_path(output: str, composite: str, given: str | None) -> str:
    """Where a row's image goes: its own ``output`` (relative to OUT unless absolute or a
    URI), else the composite's file name inside OUT (as ``harmonize`` does for folders)."""
    if given:
        if is_uri(given) or os.path.isabs(given):
            return given
        return join(output, given)
    return join(output, PurePosixPath(composite.split("://", 1)[-1]).name)


def _read_table(manifest: str) -> Any:
    import pyarrow as pa
    from pyarrow import csv, parquet

    system, path = filesystem(manifest)
    suffix = PurePosixPath(path).suffix.lower()
    try:
        if suffix == ".parquet":
            return parquet.read_table(path, filesystem=system)
        if suffix in (".csv", ".tsv"):
            with system.open_input_stream(path) as stream:
                options = csv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
                types = {k: v for k, v in _column_types().items() if k in COLUMNS[2:]}
                convert = csv.ConvertOptions(column_types=types, strings_can_be_null=True)
                return csv.read_csv(stream, parse_options=options, convert_options=convert)
    except FileNotFoundError:
        raise InputError(f"{manifest}: no such manifest") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{manifest}: not a readable {suffix[1:]} table ({exc})") from None
    raise InputError(f"{manifest}: a manifest is a .csv, .tsv or .parquet table, or a folder")


def _from_folders(composites: str, masks: str) -> Any:
    import pyarrow as pa

    from ..folders import pair_images

    for folder in (composites, masks):
        if is_uri(folder) or not Path(folder).is_dir():
            raise InputError(f"{folder}: two local folders, or one table with composite and mask")
    pairs = pair_images(Path(composites), Path(masks))
    if not pairs:
        raise InputError(f"{composites}: no images found")
    return pa.table({
        "composite": [str(c) for c, _ in pairs],
        "mask": [str(m) if m else None for _, m in pairs],
    })  # fmt: skip


def read_manifest(manifest: str | os.PathLike, masks: str | os.PathLike | None = None) -> Any:
    """The rows to harmonize as a ``pyarrow.Table`` with every column of :data:`COLUMNS`
    (optional ones null where not given).

    Args:
        manifest: a ``.csv``, ``.tsv`` or ``.parquet`` table (local or a URI) with the
            columns ``composite`` and ``mask`` (optional: ``label``, ``strength``,
            ``output``), or a folder of composites.
        masks: the folder of masks when ``manifest`` is a folder.

    Raises:
        InputError: no such table, a table without ``composite`` and ``mask``, or
            ``masks`` given with a table.
    """
    import pyarrow as pa

    text = str(manifest)
    if not is_uri(text) and Path(text).is_dir():
        if masks is None:
            raise InputError(f"{text}: a folder of composites needs a folder of masks: "
                             "harmonize-batch COMPOSITES MASKS -o OUT")  # fmt: skip
        table = _from_folders(text, str(masks))
    elif masks is not None:
        raise InputError(f"{masks}: a manifest table names its masks; give MASKS only with a "
                         "folder of composites")  # fmt: skip
    else:
        table = _read_table(text)
    missing = [c for c in COLUMNS[:2] if c not in table.column_names]
    if missing:
        raise InputError(f"{text}: the manifest has no {' or '.join(missing)} column "
                         f"(it has {', '.join(table.column_names) or 'none'})")  # fmt: skip
    types = _column_types()
    columns = {}
    for name in COLUMNS:
        if name in table.column_names:
            try:
                columns[name] = table[name].cast(types[name])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(f"{text}: column {name}: {exc}") from None
        else:
            columns[name] = pa.nulls(table.num_rows, types[name])
    return pa.table(columns)
