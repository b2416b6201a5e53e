"""A batch job on Ray Data: the manifest read, ``map_batches`` over actors that each hold
one :class:`~s2crnet.session.Harmonizer`, the results table written beside the images.

Ray starts on this machine when no ``address`` is given; ``"auto"`` or
``"ray://HOST:10001"`` joins a running cluster. A worker process killed in the middle is
replaced and its batch run again (actors restart, tasks retry): every row ends in the
results exactly once, and the images, written whole or not at all, are simply written
again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..errors import InputError
from .manifest import filesystem, join, local_path, read_manifest, result_schema
from .worker import BatchHarmonizer

__all__ = ["BatchSummary", "harmonize_dataset", "harmonize_manifest"]

#: The results table's name inside OUT.
RESULTS = "results.parquet"


def harmonize_dataset(
    ds: Any,
    output: str | os.PathLike,
    *,
    weights: Any = None,
    backend: str | None = None,
    strength: float | None = None,
    workers: int = 1,
    batch_size: int = 8,
    resume: bool = False,
    max_pixels: int | None = None,
) -> Any:
    """Harmonize every row of a ``ray.data.Dataset`` of manifest rows.

    Args:
        ds: rows with ``composite`` and ``mask`` (paths or URIs; optional ``label``,
            ``strength``, ``output``), e.g. from :func:`~s2crnet.batch.read_manifest`
            and ``ray.data.from_arrow``.
        output: the folder or URI the images go to.
        weights, backend: the model each worker loads (None: the shipped one, ONNX
            Runtime).
        strength: for rows without their own (default 1).
        workers: actors, each with one Harmonizer and one CPU.
        batch_size: rows per call.
        resume: skip rows whose output exists and decodes.
        max_pixels: as for ``harmonize``.

    Returns:
        a lazy ``ray.data.Dataset`` of result rows (see
        :data:`~s2crnet.batch.manifest.RESULT_COLUMNS`), one per input row.
    """
    if workers < 1 or batch_size < 1:
        raise InputError(f"workers and batch size must be at least 1, got {workers}, {batch_size}")
    kwargs = {"output": str(output), "weights": weights, "backend": backend,
              "strength": strength, "resume": resume, "max_pixels": max_pixels}  # fmt: skip
    from ray.data import ActorPoolStrategy

    # Ray Data's actors restart without limit and their tasks retry by default: a killed
    # worker is replaced and its batch run again
    return ds.map_batches(
        BatchHarmonizer, fn_constructor_kwargs=kwargs, batch_size=batch_size,
        batch_format="pyarrow", compute=ActorPoolStrategy(size=workers), num_cpus=1,
    )  # fmt: skip


@dataclass(frozen=True)
class BatchSummary:
    """What a job did: rows in all, failed, resumed, where the results are."""

    rows: int
    failed: int
    resumed: int
    results: str
    errors: tuple[str, ...]  # the first few error rows, "composite: status"


def _start_ray(address: str | None, workers: int) -> None:
    import ray

    if ray.is_initialized():
        return
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        options.update(num_cpus=max(workers, os.cpu_count() or 1), include_dashboard=False)
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"--address {address}: cannot join the Ray cluster ({exc})") from None


def _write_results(table: Any, output: str) -> str:
    import pyarrow as pa
    from pyarrow import parquet

    path = join(output, RESULTS)
    local = local_path(path)
    if local is None:  # an object store: one upload, whole or not at all
        system, key = filesystem(path)
        with system.open_output_stream(key) as stream:
            parquet.write_table(table, stream)
        return path
    from ..atomic import write_atomic

    sink = pa.BufferOutputStream()
    parquet.write_table(table, sink)
    write_atomic(local, sink.getvalue().to_pybytes())
    return path


def _prepare_output(output: str) -> None:
    """Make the output folder (local) and clear what a killed earlier run left there."""
    folder = local_path(output)
    if folder is None:
        return
    from ..atomic import remove_stale_temporaries

    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; give an output folder")
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)


def harmonize_manifest(
    manifest: str | os.PathLike,
    output: str | os.PathLike,
    *,
    masks: str | os.PathLike | None = None,
    address: str | None = None,
    workers: int = 1,
    batch_size: int = 8,
    weights: Any = None,
    backend: str | None = None,
    strength: float | None = None,
    resume: bool = False,
    max_pixels: int | None = None,
) -> BatchSummary:
    """Run a whole job: read the manifest (:func:`~s2crnet.batch.read_manifest`),
    harmonize every row on Ray (:func:`harmonize_dataset`), write ``OUT/results.parquet``.

    Args:
        manifest, masks: a table, or a folder of composites and one of masks.
        output: the folder or URI for the images and the results table.
        address: None starts Ray on this machine; ``"auto"`` or ``"ray://HOST:10001"``
            joins a running cluster.
        workers, batch_size, weights, backend, strength, resume, max_pixels: as for
            :func:`harmonize_dataset`.
    """
    import pyarrow as pa

    table = read_manifest(manifest, masks)
    output = str(output)
    _prepare_output(output)
    _start_ray(address, workers)
    import ray

    # several blocks per worker, so that every worker has rows from the start
    blocks = max(1, min(table.num_rows, max(4 * workers, table.num_rows // 1000)))
    ds = ray.data.from_arrow(table, override_num_blocks=blocks)
    done = harmonize_dataset(ds, output, weights=weights, backend=backend, strength=strength,
                             workers=workers, batch_size=batch_size, resume=resume,
                             max_pixels=max_pixels)  # fmt: skip
    parts = [pa.Table.from_batches([b]) if isinstance(b, pa.RecordBatch) else b
             for b in done.iter_batches(batch_format="pyarrow", batch_size=None)]  # fmt: skip
    schema = result_schema()
    results = pa.concat_tables(parts).cast(schema) if parts else schema.empty_table()
    _prepare_output(output)  # a killed worker's temporaries
    where = _write_results(results, output)
    status = results["status"].to_pylist()
    failed = [f"{PurePosixPath(str(c)).name}: {s}" for c, s in
              zip(results["composite"].to_pylist(), status, strict=True) if s != "ok"]  # fmt: skip
    resumed = sum(bool(r) for r in results["resumed"].to_pylist())
    return BatchSummary(len(status), len(failed), resumed, where, tuple(failed[:5]))
